"""A total deadline on a block of blocking calls, from the serving model's own mechanism: gevent.Timeout.

Under gunicorn's gevent worker every socket wait and name lookup (gevent's resolver) yields to the hub, and the
timer raises in the waiting greenlet when the time is up, wherever it waits. Outside a patched process (tests,
commands) the timer cannot interrupt a blocking call: there each socket operation's own time-out bounds it.
"""

import contextlib
from collections.abc import Iterator

import gevent

from personal.transport.errors import DeadlineExceeded


@contextlib.contextmanager
def total_deadline(seconds: float, what: str) -> Iterator[None]:
    """Raises DeadlineExceeded(what) when the block is not done within `seconds`."""
    timer = gevent.Timeout(max(seconds, 0.001))
    timer.start()
    try:
        yield
    except gevent.Timeout as e:
        if e is not timer:
            raise  # an outer deadline's: it is theirs to report
        raise DeadlineExceeded(f"{what}: over {seconds:g}s") from None
    finally:
        timer.close()
