"""A TCP server that accepts connections and never answers: a hung Redis, or a black-holing proxy."""

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class SilentServer:
    port: int
    accepted: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def silent_server() -> Iterator[SilentServer]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = SilentServer(port=listener.getsockname()[1])

    def accept_forever() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed
                return
            server.accepted.append(connection)

    threading.Thread(target=accept_forever, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()
        for connection in server.accepted:
            connection.close()
