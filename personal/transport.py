"""A bounded HTTP transport: one pooled requests.Session whose every call has a total deadline and a size cap.

requests' time-outs apply per socket operation, so a peer that trickles a byte every few seconds could hold a
call for ever. Here each call registers a deadline with one watchdog thread; when it passes, the watchdog shuts
the call's socket down, the blocked read returns, and the call fails with DeadlineExceeded. The connection is
then discarded, never returned to the pool. Bodies are read up to a cap, in `identity` encoding only, so a
compressed answer can never inflate in the worker.
"""

import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

READ_CHUNK_BYTES = 64 * 1024


class DeadlineExceeded(Exception):
    """The call did not complete (connect, headers and body) within its deadline."""


class BodyTooLarge(Exception):
    """The answer's body is over the cap (declared or as read)."""


class UnexpectedEncoding(Exception):
    """The answer is compressed although only `identity` was accepted."""


@dataclass(frozen=True, slots=True)
class BoundedResponse:
    status: int
    headers: CaseInsensitiveDict
    body: bytes


class _Deadline:
    """One call's budget. The watchdog calls expire(); the call's thread attaches and detaches connections."""

    __slots__ = ("_connection", "_done", "_lock", "expired", "expires_at")

    def __init__(self, seconds: float):
        self.expires_at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._connection: HTTPConnection | None = None
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def detach(self, connection: HTTPConnection | None) -> None:
        # back in the pool, where another call may take it: this deadline must never touch it again
        with self._lock:
            if self._connection is connection:
                self._connection = None

    def finish(self) -> None:
        with self._lock:
            self._done = True
            self._connection = None

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


_current_deadline: contextvars.ContextVar[_Deadline | None] = contextvars.ContextVar("wisdom_deadline", default=None)


class _Watchdog:
    """One daemon thread per process that expires deadlines in time order (a thread per call would cost more)."""

    def __init__(self):
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._pid: int | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._wakeup:
            if self._pid != os.getpid():  # first use, or first use after a fork: threads do not survive it
                self._pid = os.getpid()
                self._heap.clear()
                threading.Thread(target=self._run, name="upstream-deadlines", daemon=True).start()
            heapq.heappush(self._heap, (deadline.expires_at, next(self._order), deadline))
            if self._heap[0][2] is deadline:
                self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._heap:
                    self._wakeup.wait()
                expires_at, _, deadline = self._heap[0]
                wait = expires_at - time.monotonic()
                if wait > 0:
                    self._wakeup.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline.expire()  # a no-op for a call that already finished


_watchdog = _Watchdog()


class _DeadlineAware:
    """Connections report themselves to the current call's deadline when taken, connected and put back."""

    def connect(self) -> None:
        super().connect()
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.attach(self)  # connected just as the deadline passed: shut it now


class _DeadlineHTTPConnection(_DeadlineAware, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineAware, HTTPSConnection):
    pass


class _DeadlinePoolMixin:
    def _get_conn(self, timeout: float | None = None):
        connection = super()._get_conn(timeout)
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.attach(connection)
        return connection

    def _put_conn(self, conn) -> None:
        deadline = _current_deadline.get()
        if deadline is not None:
            deadline.detach(conn)
        super()._put_conn(conn)


class _DeadlineHTTPConnectionPool(_DeadlinePoolMixin, HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSConnectionPool(_DeadlinePoolMixin, HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _DeadlineHTTPConnectionPool,
            "https": _DeadlineHTTPSConnectionPool,
        }


class BoundedSession:
    """Thread-safe: the session is only read after construction; its adapter's pool is thread-safe."""

    def __init__(self, *, pool_size: int, connect_timeout: float, max_body_bytes: int, headers: dict[str, str]):
        self.connect_timeout = connect_timeout
        self.max_body_bytes = max_body_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or .netrc credentials from the environment
        # never store a cookie upstream sets: it would travel with the next user's call
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.session.headers.update({**headers, "Accept-Encoding": "identity"})
        adapter = _DeadlineAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, *, seconds: float, **kwargs: Any) -> BoundedResponse:
        """The whole call (connect, headers, body) within `seconds`; requests' own errors pass through."""
        deadline = _Deadline(seconds)
        token = _current_deadline.set(deadline)
        _watchdog.watch(deadline)
        try:
            # each socket operation is bounded too, so no single read can outwait the deadline by much
            timeout = (min(self.connect_timeout, seconds), seconds)
            response = self.session.request(method, url, timeout=timeout, stream=True, allow_redirects=False, **kwargs)
            try:
                body = self._read(response, deadline)
            finally:
                response.close()
            return BoundedResponse(status=response.status_code, headers=response.headers, body=body)
        except (requests.RequestException, Urllib3Error, OSError) as e:
            # a socket time-out is the deadline's too: each operation's limit is at most what was left
            if deadline.expired or isinstance(e, requests.Timeout | TimeoutError | ReadTimeoutError):
                raise DeadlineExceeded(f"{method} {url}: over {seconds}s") from e
            raise
        finally:
            deadline.finish()
            _current_deadline.reset(token)

    def _read(self, response: requests.Response, deadline: _Deadline) -> bytes:
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise UnexpectedEncoding(encoding[:32])
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge(f"declared {declared} bytes")
        chunks, size = [], 0
        while True:
            chunk = response.raw.read(READ_CHUNK_BYTES, decode_content=False)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge(f"over {self.max_body_bytes} bytes")
            chunks.append(chunk)
        if deadline.expired:  # the socket was shut mid-body: what was read is cut short
            raise DeadlineExceeded("body cut short at the deadline")
        return b"".join(chunks)
