"""A real SMTP server in the test process (aiosmtpd), on a free port, that keeps what it receives; it can be stopped
and started again on the same port, as a mail server that is briefly down."""

import contextlib
import email
import email.policy
import logging
import re
import select
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.helpers.processes import free_port

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    def links(self) -> list[str]:
        return LINK.findall(self.text)


class _Collector:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.received.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Delivered] = []
        self.refused: set[str] = set()  # recipients answered 550
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "SmtpServer":
        """Listens on its port (again, after stop()); nothing happens when it already does."""
        if self._controller is None:
            controller = Controller(_Collector(self), hostname="127.0.0.1", port=self.port)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Delivered]:
        with self.lock:
            return list(self.received)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
        self.refused.clear()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Delivered]:
        """The messages once at least `count` arrived; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(received := self.messages()) >= count:
                return received
            time.sleep(0.05)
        raise AssertionError(f"expected {count} message(s) within {timeout}s, got {len(self.messages())}")


class TricklingSmtpProxy:
    """In front of an SmtpServer: the first `slow_connections` connections get a greeting trickled one byte every
    `interval` seconds for `trickle_seconds` (`220-` lines: each read is quick, the whole greeting is not), then the
    real server's conversation; later connections go straight through. Counts the connections the client cut."""

    def __init__(self, upstream_port: int, *, trickle_seconds: float, interval: float = 1.0, slow_connections=1):
        self.upstream_port = upstream_port
        self.trickle_seconds = trickle_seconds
        self.interval = interval
        self.slow_connections = slow_connections
        self.connections = 0
        self.cut_by_client = 0
        self.lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                slow = self.connections <= self.slow_connections
            threading.Thread(target=self._serve, args=(client, slow), daemon=True).start()

    def _serve(self, client: socket.socket, slow: bool) -> None:
        with client:
            if slow and not self._trickle(client):
                with self.lock:
                    self.cut_by_client += 1
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
                threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
                _pipe(client, upstream)

    def _trickle(self, client: socket.socket) -> bool:
        """False when the client hung up (or cut the connection) before the trickle ended."""
        line = b"220-still saying hello\r\n"
        deadline = time.monotonic() + self.trickle_seconds
        while time.monotonic() < deadline and not self._stopped.is_set():
            for byte in line:
                try:
                    client.sendall(bytes([byte]))
                except OSError:
                    return False
                if _hung_up(client, wait=self.interval):
                    return False
        return True


def _hung_up(sock: socket.socket, *, wait: float) -> bool:
    """Waits `wait` seconds; True as soon as the peer closes (or cuts) the connection."""
    ready, _, _ = select.select([sock], [], [], wait)
    if not ready:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
