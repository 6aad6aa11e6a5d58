"""A bounded HTTP transport: one pooled requests.Session whose every call has a total deadline and a size cap.

requests' time-outs apply per socket operation, so a peer that trickles a byte every few seconds could hold a
call for ever. Here each call registers a deadline with one watchdog thread; when it passes, the watchdog shuts
the call's socket down, the blocked read returns, and the call fails with DeadlineExceeded. The connection is
then discarded, never returned to the pool. Bodies are read up to a cap, in `identity` encoding only, so a
compressed answer can never inflate in the worker.

A streamed answer (`open_stream`) goes over a connection of its own, spoken with h11 on a plain socket: every
socket operation waits at most until a deadline the caller passes, and a wait that ends without data leaves the
connection usable (urllib3's reader is dead after one time-out), so one thread can relay a stream, send
keep-alives while upstream is silent, and enforce a deadline per gap and in total, without a second thread.
"""

import contextvars
import heapq
import itertools
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import h11
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import default_headers
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

READ_CHUNK_BYTES = 64 * 1024
_NO_PROXIES: dict[str, str] = {}


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
    """Thread-safe: only read after construction; its adapter's pool is thread-safe.

    Each call goes straight to requests' HTTPAdapter (urllib3's pool) with a request prepared from its parts:
    what requests.Session adds on top (cookie jars, hooks, settings merged from the environment, redirects) is
    nothing this client wants, and it cost a third of the call's CPU. So no cookie is ever stored or sent, no
    proxy or .netrc credential is taken from the environment, and no redirect is followed.
    """

    def __init__(self, *, pool_size: int, connect_timeout: float, max_body_bytes: int, headers: dict[str, str]):
        self.connect_timeout = connect_timeout
        self.max_body_bytes = max_body_bytes
        self.headers = {**default_headers(), **headers, "Accept-Encoding": "identity"}
        self.adapter = _DeadlineAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    def close(self) -> None:
        self.adapter.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        seconds: float,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> BoundedResponse:
        """The whole call (connect, headers, body) within `seconds`; requests' own errors pass through."""
        deadline = _Deadline(seconds)
        token = _current_deadline.set(deadline)
        _watchdog.watch(deadline)
        try:
            prepared = requests.PreparedRequest()
            prepared.prepare_method(method)
            prepared.prepare_url(url, params)
            prepared.prepare_headers({**self.headers, **headers} if headers else self.headers)
            prepared.prepare_body(data, None)
            # each socket operation is bounded too, so no single read can outwait the deadline by much
            timeout = (min(self.connect_timeout, seconds), seconds)
            response = self.adapter.send(prepared, stream=True, timeout=timeout, verify=True, proxies=_NO_PROXIES)
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


# --- streamed answers ---------------------------------------------------------------------------------

MAX_HEADER_BYTES = 64 * 1024


class StreamBroken(Exception):
    """The streamed answer broke off: the connection failed or upstream broke HTTP/1.1's framing."""


class UpstreamStream:
    """One answer read as it arrives, over a connection of its own that `close` ends (it is never pooled).

    Not thread-safe: one request's thread reads it. Every read waits at most until the monotonic time given.
    """

    def __init__(self, sock: socket.socket, connection: h11.Connection, response: h11.Response):
        self._sock = sock
        self._connection = connection
        self.status: int = response.status_code
        self.headers = CaseInsensitiveDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers
        )
        self.closed = False

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def read(self, *, until: float) -> bytes | None:
        """The next body bytes as they arrive; b"" once the body is complete; None if `until` came first."""
        while True:
            try:
                event = self._connection.next_event()
            except h11.RemoteProtocolError as e:
                raise StreamBroken(f"bad framing: {e}") from e
            if isinstance(event, h11.Data):
                if event.data:
                    return bytes(event.data)
                continue
            if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed) or event is h11.PAUSED:
                return b""
            if event is h11.NEED_DATA:
                try:
                    received = _receive(self._sock, until)
                except OSError as e:
                    raise StreamBroken(type(e).__name__) from e
                if received is None:
                    return None
                self._connection.receive_data(received)
                continue
            raise StreamBroken(f"unexpected {type(event).__name__}")  # pragma: no cover

    def read_body(self, *, until: float, max_bytes: int) -> bytes:
        """The whole (non-streamed) body, up to `max_bytes`, by `until`."""
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise BodyTooLarge(f"declared {declared} bytes")
        chunks, size = [], 0
        while True:
            chunk = self.read(until=until)
            if chunk is None:
                raise DeadlineExceeded("body not complete by the deadline")
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(f"over {max_bytes} bytes")
            chunks.append(chunk)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self._sock.close()
            except OSError:  # pragma: no cover - closing never matters more than the answer
                pass


def open_stream(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes,
    connect_timeout: float,
    headers_by: float,
) -> UpstreamStream:
    """Sends the request and waits for the answer's status and headers until `headers_by` (monotonic).

    Only `identity` encoding is accepted. Raises DeadlineExceeded, ConnectionError (refused, reset or dropped
    before the headers), StreamBroken (not HTTP/1.1) or UnexpectedEncoding.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    try:
        sock = socket.create_connection((parts.hostname, port), timeout=_left(headers_by, cap=connect_timeout))
    except TimeoutError as e:
        raise DeadlineExceeded(f"connect to {parts.hostname}:{port}") from e
    except OSError as e:
        raise ConnectionError(f"connect to {parts.hostname}:{port}: {type(e).__name__}") from e
    stream = None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each event leaves at once
        if parts.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parts.hostname)
        connection = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
        request = h11.Request(
            method=method,
            target=target,
            headers=[
                ("Host", host),
                *headers.items(),
                ("Accept-Encoding", "identity"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),  # the connection ends with the stream
            ],
        )
        outgoing = connection.send(request) + connection.send(h11.Data(data=body)) + connection.send(h11.EndOfMessage())
        sock.settimeout(_left(headers_by))
        sock.sendall(outgoing)
        response = _read_response(sock, connection, headers_by)
        stream = UpstreamStream(sock, connection, response)
        encoding = stream.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise UnexpectedEncoding(encoding[:32])
        return stream
    except TimeoutError as e:
        sock.close()
        raise DeadlineExceeded("no answer by the deadline") from e
    except OSError as e:  # as requests has it: a connection dropped before the answer is "unreachable"
        sock.close()
        raise ConnectionError(f"{type(e).__name__} before the answer's headers") from e
    except h11.ProtocolError as e:
        sock.close()
        raise StreamBroken(f"{type(e).__name__}: {e}") from e
    except BaseException:
        sock.close()
        raise


def _read_response(sock: socket.socket, connection: h11.Connection, until: float) -> h11.Response:
    while True:
        event = connection.next_event()
        if isinstance(event, h11.Response):
            return event
        if isinstance(event, h11.InformationalResponse):
            continue  # 100 Continue and the like
        if event is h11.NEED_DATA:
            received = _receive(sock, until)
            if received is None:
                raise TimeoutError("no status line and headers by the deadline")
            if not received:
                raise ConnectionResetError("closed before the answer's headers")
            connection.receive_data(received)
            continue
        raise StreamBroken(f"unexpected {type(event).__name__} before the answer's headers")


def _receive(sock: socket.socket, until: float) -> bytes | None:
    """What the socket has, waiting at most until `until`: None if nothing came; b"" when the peer closed.
    A failed connection raises OSError."""
    remaining = until - time.monotonic()
    if remaining <= 0:
        return None
    sock.settimeout(remaining)
    try:
        return sock.recv(READ_CHUNK_BYTES)
    except TimeoutError:
        return None  # nothing lost: h11 keeps every byte it was fed, the socket stays usable


def _left(until: float, *, cap: float | None = None) -> float:
    left = max(until - time.monotonic(), 0.001)
    return min(left, cap) if cap is not None else left
