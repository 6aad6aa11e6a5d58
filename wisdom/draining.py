"""Whether this process is stopping, and by when every open stream must have sent its last event.

Set once, from the worker's SIGTERM handler (wisdom/gunicorn_worker.py): a plain assignment, safe in a signal
handler. /readyz reads `stopping()`; a stream relay reads `drain_deadline()` before each wait.
"""

import math
import time

_deadline: float | None = None  # time.monotonic() by which open streams end; None while serving


def mark_stopping(*, drain_seconds: float = math.inf) -> None:
    """From now on /readyz answers 503 and open streams end within `drain_seconds` (kept if already stopping)."""
    global _deadline
    if _deadline is None:
        _deadline = time.monotonic() + drain_seconds


def stopping() -> bool:
    return _deadline is not None


def drain_deadline() -> float:
    """time.monotonic() by which an open stream sends its last event; infinity while the process serves."""
    return math.inf if _deadline is None else _deadline
