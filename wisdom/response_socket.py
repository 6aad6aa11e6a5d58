"""The client's socket as gunicorn's response writes to it: a response's status line and headers leave with the
first piece of its body, in one write.

gunicorn sends the headers, then each piece of the body, one `sendall` each. Held until the body's first piece, the
headers go out with it: a one-piece answer (nearly every answer) is one send, and a worker killed between two
writes can no longer leave a client, or a proxy that then cannot retry, with a 200's headers and no body. Interim
answers (100 Continue, 103 Early Hints) are never held; what is held goes out before any other send on the socket,
and once the request is handled.
"""

from typing import Any


def _is_final_head(data: bytes) -> bool:
    """A final answer's status line and headers, whole, as gunicorn writes them (2xx to 5xx)."""
    return (
        isinstance(data, bytes)
        and data.startswith((b"HTTP/1.1 ", b"HTTP/1.0 "))
        and data[9:10] in b"2345"
        and data.endswith(b"\r\n\r\n")
    )


class HeldHeadersSocket:
    """Wraps one request's socket; `flush()` once the request is handled."""

    __slots__ = ("_head_seen", "_held", "_sock")

    def __init__(self, sock: Any):
        self._sock = sock
        self._held: bytes | None = None
        self._head_seen = False

    def sendall(self, data: bytes, *args: Any) -> None:
        held = self._held
        if held is not None:
            self._held = None
            return self._sock.sendall(held + bytes(data), *args)
        if not self._head_seen and _is_final_head(data):
            self._head_seen = True
            self._held = bytes(data)
            return None
        return self._sock.sendall(data, *args)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._sock.sendall(held)

    def send(self, data: bytes, *args: Any) -> int:
        self.flush()
        return self._sock.send(data, *args)

    def sendfile(self, *args: Any, **kwargs: Any) -> int:
        self.flush()
        return self._sock.sendfile(*args, **kwargs)

    # gunicorn shuts a request's socket only when the answer failed after its headers: held, they are dropped, so
    # the client (or a proxy, which may then retry) sees no answer rather than half of one.
    def shutdown(self, how: int) -> None:
        self._held = None
        self._sock.shutdown(how)

    def close(self) -> None:
        self._held = None
        self._sock.close()

    def __getattr__(self, name: str) -> Any:  # fileno, recv (a stream watches its client), settimeout...
        return getattr(self._sock, name)
