"""urllib3's connections, with a small read buffer per answer.

http.client reads each answer through a buffered file of 8 KiB. A streamed answer keeps its file for the stream's
whole life, one per open stream, while its events are a few hundred bytes; a larger read (a body) goes past the
buffer to the socket, so 1 KiB costs nothing in speed.
"""

import http.client
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

READ_BUFFER_BYTES = 1024


class _SmallBuffer:
    """A socket as http.client's answer sees it: only `makefile`, with the small buffer."""

    def __init__(self, sock: Any):
        self._sock = sock

    def makefile(self, mode: str) -> Any:
        return self._sock.makefile(mode, buffering=READ_BUFFER_BYTES)


class _Answer(http.client.HTTPResponse):
    """An answer that keeps its socket: http.client lets go of it on the connection when the answer says
    `Connection: close`, and a streamed body is still waited on there."""

    def __init__(self, sock: Any, debuglevel: int = 0, method: str | None = None, url: str | None = None):
        super().__init__(_SmallBuffer(sock), debuglevel=debuglevel, method=method, url=url)
        self.socket = sock


class _Connection(HTTPConnection):
    response_class = _Answer


class _TLSConnection(HTTPSConnection):
    response_class = _Answer


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


POOL_CLASSES_BY_SCHEME = {"http": _Pool, "https": _TLSPool}
