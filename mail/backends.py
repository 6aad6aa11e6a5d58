"""Django's SMTP backend, made abortable: `abort()`, from any thread, cuts every socket the backend has open
(while connecting and reading the greeting too), so the blocked send fails at once. mail.services uses it to
give each send a total deadline: EMAIL_TIMEOUT bounds one read, but a server trickling a byte at a time never
lets one read time out."""

import smtplib
import socket
import threading

from django.core.mail.backends import smtp


class _TrackedSockets:
    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.sockets = [*(kept for kept in self.sockets if kept.fileno() != -1), sock]

    def cut(self) -> None:
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for sock in sockets:
            try:
                # socket.socket's own shutdown, also for an SSLSocket: the blocked read returns at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:  # already closed, or the fd moved into a TLS wrapper (cut through the connection)
                pass


def _tracked(base: type[smtplib.SMTP]) -> type[smtplib.SMTP]:
    class Tracked(base):
        tracker: _TrackedSockets | None = None

        def _get_socket(self, host, port, timeout):
            sock = super()._get_socket(host, port, timeout)
            if self.tracker is not None:
                self.tracker.add(sock)
            return sock

    Tracked.__name__ = f"Tracked{base.__name__}"
    return Tracked


_TRACKED_SMTP = _tracked(smtplib.SMTP)
_TRACKED_SMTP_SSL = _tracked(smtplib.SMTP_SSL)


class AbortableSmtpBackend(smtp.EmailBackend):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tracker = _TrackedSockets()

    @property
    def connection_class(self):
        base = _TRACKED_SMTP_SSL if self.use_ssl else _TRACKED_SMTP
        tracker = self._tracker

        def connect(*args, **kwargs) -> smtplib.SMTP:
            connection = base.__new__(base)
            connection.tracker = tracker  # set before __init__, which connects and reads the greeting
            connection.__init__(*args, **kwargs)
            return connection

        return connect

    def abort(self) -> None:
        """Cuts the connection under way (also one still opening); the send blocked on it raises."""
        for connection in (self.connection, self._partial_connection):
            sock = getattr(connection, "sock", None)
            if sock is not None:  # after STARTTLS: the TLS socket that now owns the file descriptor
                self._tracker.add(sock)
        self._tracker.cut()
