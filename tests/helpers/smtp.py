"""A real SMTP server in the test process (aiosmtpd), on a free port, that keeps what it receives; it can be stopped
and started again on the same port, as a mail server that is briefly down."""

import email
import email.policy
import logging
import re
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
