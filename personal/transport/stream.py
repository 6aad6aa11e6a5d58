"""A streamed answer, read by the relay itself: one wait on upstream's socket and the client's, then a read that
does not block.

The relay asks for the next bytes with a time-out (the next keep-alive, the gap and total deadlines). Bytes
already buffered are read at once; otherwise one wait is for upstream's socket to turn readable, for the
client's to turn readable (a client does not send while its stream is open: it left, unless it sent its next
request early) or for the time-out (personal/transport/waiting.py). Under gunicorn's gevent worker the wait parks
the request's own greenlet: a stream costs no second greenlet, thread or queue. A read is only ever started when
what it needs is in, so no read is interrupted mid-way and the keep-alives go out while upstream is silent.

What "in" means follows http.client's chunked decoding (the body's framing): between two chunks a read consumes
the previous chunk's CRLF and the whole next size line before returning, so both must be buffered first.
"""

import http.client
import socket
import ssl
import time
from typing import Any

import requests
from urllib3 import BaseHTTPResponse, HTTPHeaderDict

from personal.transport.body import READ_CHUNK_BYTES, read_capped
from personal.transport.errors import DeadlineExceeded, StreamBroken
from personal.transport.waiting import CLIENT, UPSTREAM, SocketWait, socket_wait

_END_READS = 4  # what may follow a stream's last event: the last chunk's rest and the terminating chunk


class UpstreamStream:
    """One answer's body as it arrives. One relay reads it, in the greenlet (or thread) that opened it."""

    def __init__(self, response: requests.Response, *, max_body_bytes: int):
        # urllib3's answer alone: requests' Response would keep the sent request and a copy of the headers too
        self._raw: BaseHTTPResponse = response.raw
        self._answer: http.client.HTTPResponse = response.raw._fp  # what urllib3 reads from: the body's framing
        self.status: int = response.status_code
        self.headers: HTTPHeaderDict = response.raw.headers
        self.max_body_bytes = max_body_bytes
        self.closed = False
        self.client_gone = False
        self._client: Any = None  # the client's socket, while it is watched
        self._wait: SocketWait | None = None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def read_body(self) -> bytes:
        """The whole (non-streamed) body, up to the cap; the caller bounds it with a deadline."""
        return read_capped(self._raw, self.headers, max_bytes=self.max_body_bytes)

    def watch_client(self, client_socket: Any) -> None:
        """While the relay waits, also notice this socket's end (`client_gone`)."""
        self._client = client_socket

    def read(self, *, timeout: float) -> bytes | None:
        """The next body bytes; b"" once the body is complete; None when `timeout` passed first or the client left
        (`client_gone`). Raises StreamBroken when the connection failed, DeadlineExceeded when a read outwaited its
        socket's time-out (upstream stopped half-way through a chunk)."""
        if not self._in_buffer() and not self._wait_upstream(max(timeout, 0)):
            return None
        try:
            return self._answer.read1(READ_CHUNK_BYTES)  # http.client's own: urllib3's wrapping costs per event
        except Exception as e:  # the connection failed or timed out
            timed_out = isinstance(e, TimeoutError)  # the socket's time-out: http.client raises it as is
            raise (DeadlineExceeded if timed_out else StreamBroken)(type(e).__name__) from None

    def close(self, *, end_within: float = 0.0) -> None:
        """Ends the stream. A body whose end is in, or comes within `end_within` seconds, is read to it first: the
        connection goes back to the pool, for the next call, instead of being closed."""
        if self.closed:
            return
        self.closed = True
        try:
            self._read_to_end(time.monotonic() + end_within)
        except Exception:  # noqa: S110 - a body that ends badly is closed below, like one cut short
            pass
        if self._wait is not None:
            self._wait.close()
        if not self._answer.isclosed():  # cut short: the connection cannot serve another call
            self._raw.close()
        self._raw.release_conn()  # back to the pool (a closed one is replaced there)

    def _read_to_end(self, ends: float) -> None:
        """Reads what may follow the last event (the last chunk's rest, the terminating chunk) while it comes
        before `ends` (monotonic); an upstream sends its terminating chunk apart from its last event."""
        for _ in range(_END_READS):
            if not self._in_buffer():
                upstream, left = self._upstream_socket(), ends - time.monotonic()
                if left <= 0 or upstream is None or not self._wait_upstream(left):
                    return
                upstream.settimeout(left)  # a read of half a frame gives up with the rest (it is being closed)
            if not self._answer.read1(READ_CHUNK_BYTES):
                return

    # --- waiting ------------------------------------------------------------------------------

    def _wait_upstream(self, timeout: float) -> bool:
        """True when upstream's socket turned readable within `timeout`; False on the time-out or the client's end."""
        if self._wait is None:
            upstream = self._upstream_socket()
            if upstream is None:
                return True  # no socket left to wait on: the read answers at once
            self._wait = socket_wait(upstream.fileno(), self._client.fileno() if self._client is not None else None)
        ready = self._wait.wait(timeout)
        if CLIENT in ready:
            if _left(self._client):
                self.client_gone = True
                return False
            self._wait.forget_client()  # its next request, sent early: the write will tell
            self._client = None
        return UPSTREAM in ready

    def _upstream_socket(self) -> Any:
        """The answer's own socket (personal/transport/connections.py); the connection's for any other answer."""
        sock = getattr(self._answer, "socket", None)
        if sock is not None:
            return sock if sock.fileno() >= 0 else None
        connection = self._raw.connection
        return connection.sock if connection is not None else None

    def _in_buffer(self) -> bool:
        """Whether the next read can complete from what is already buffered (or readable) without waiting."""
        answer = self._answer
        if answer.isclosed():
            return True  # read to its end: a read answers b"" at once
        buffered = _peek_without_waiting(answer.fp, self._upstream_socket())
        if not answer.chunked:
            return bool(buffered)
        chunk_left = answer.chunk_left
        if chunk_left:  # inside a chunk: any byte of it will do
            return bool(buffered)
        # between chunks: the previous chunk's CRLF (when one was read) and the next size line, whole; after the
        # terminating chunk's size line (0), the empty line that ends its trailer too
        skip = 2 if chunk_left == 0 else 0
        line_end = buffered.find(b"\n", skip)
        if line_end < 0:
            return False
        size = buffered[skip:line_end].split(b";", 1)[0].strip()
        if size and not size.lstrip(b"0"):
            return b"\n\r\n" in buffered[line_end:] or b"\n\n" in buffered[line_end:]
        return True


def _peek_without_waiting(fp: Any, sock: Any) -> bytes:
    """The bytes buffered in `fp`, topped up from its socket `sock` only if that needs no wait."""
    if fp is None or sock is None:
        return b""
    previous = sock.gettimeout()
    sock.settimeout(0)
    try:
        return fp.peek(1)
    except (ssl.SSLWantReadError, BlockingIOError, ValueError, OSError):
        return b""  # nothing in without a wait (TLS wants more), or closed: the wait and the read will say
    finally:
        try:
            sock.settimeout(previous)
        except OSError:
            pass


def _left(client: Any) -> bool:
    """A readable client socket: True when it ended (end of file, or a reset), False when it sent bytes."""
    try:
        return client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # readable, then not: nothing to tell
    except OSError:
        return True  # reset, or closed under us
