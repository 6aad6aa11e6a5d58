"""One call to the agents service as a unit: its timing (the access line), its error mapping and its metrics,
the same for a plain call and a streamed chat. A stream's call ends when its relay ends, by outcome."""

import logging
import time

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from personal.errors import AgentsError, AgentsFailed, AgentsTimeout, AgentsUnreachable
from personal.transport import BodyTooLarge, DeadlineExceeded, EventTooLarge, StreamBroken, UnexpectedEncoding
from wisdom import request_context
from wisdom.db import connection_release
from wisdom.metrics import record_upstream_call, upstream_outcome

logger = logging.getLogger(__name__)


def agents_error(error: Exception, *, method: str, path: str) -> AgentsError:
    """The one mapping of what the transport raised to the error the client answers with (logged here)."""
    if isinstance(error, AgentsError):
        return error
    what = f"{method} {path}"
    if isinstance(error, DeadlineExceeded):
        logger.error("agents service did not answer %s in time: %s", what, error)
        return AgentsTimeout(f"{what}: {error}")
    if isinstance(error, BodyTooLarge | UnexpectedEncoding | StreamBroken | EventTooLarge):
        logger.error("agents service answer to %s refused: %s: %s", what, type(error).__name__, error)
        return AgentsFailed(f"{what}: {type(error).__name__}")
    if isinstance(error, requests.ConnectionError):
        logger.error("agents service unreachable on %s: %s", what, type(error).__name__)
        return AgentsUnreachable(f"{what}: {type(error).__name__}")
    if isinstance(error, requests.RequestException | Urllib3Error | OSError):
        logger.error("agents service broke off %s: %s", what, type(error).__name__)
        return AgentsFailed(f"{what}: {type(error).__name__}")
    raise error


class UpstreamCall:
    """Begun before the first byte goes out (the database connection is released then: none is held while
    upstream is awaited); ended once, with the error it ended with, or none."""

    def __init__(self, method: str, path: str):
        self.method = method
        self.path = path
        connection_release()
        self._started = time.perf_counter()
        self._status: int | None = None
        self._ended = False

    def answered(self, status: int) -> None:
        self._status = status

    def end(self, error: BaseException | None = None, *, outcome: str | None = None) -> None:
        """Records the call; `outcome` when the error alone does not say it (a stream's client left)."""
        if self._ended:
            return
        self._ended = True
        seconds = time.perf_counter() - self._started
        outcome = outcome or upstream_outcome(error)
        record_upstream_call(self.method, self.path, outcome=outcome, seconds=seconds)
        context = request_context.current()
        if context is not None:  # the access line: the last upstream status, and the time spent upstream summed
            context.upstream_ms = round((context.upstream_ms or 0) + seconds * 1000, 2)
            if self._status is not None:
                context.upstream_status = self._status
