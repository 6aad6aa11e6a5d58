"""Noticing at once that a streaming client left: its connection's end, watched while the relay waits.

Under gunicorn's gevent worker a greenlet waits for the client's socket to turn readable (its own watcher on the
descriptor, so the socket object stays free for the server). A client does not send while its stream is open, so
readable means it left (end of file, or a reset) unless it sent a next request early: then watching stops, and a
write failing is the sign, as without a watch (outside gunicorn, or in tests in one process).
"""

import logging
import socket
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class ClientWatch:
    def __init__(self, client_socket: Any, *, on_gone: Callable[[], None] | None):
        self._socket = client_socket
        self._on_gone = on_gone
        self._greenlet = None
        self.gone = False

    def start(self) -> None:
        if self._socket is None or self._on_gone is None:
            return
        from gevent import monkey, spawn

        if monkey.is_module_patched("socket"):
            self._greenlet = spawn(self._watch)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def _watch(self) -> None:
        from gevent.socket import wait_read

        try:
            wait_read(self._socket.fileno())
            left = self._socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return  # readable, then not: nothing to tell
        except OSError:
            left = True  # reset, or closed under us
        if left:
            self.gone = True
            self._on_gone()
