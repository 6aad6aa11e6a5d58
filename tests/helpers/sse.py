"""A streamed chat read over a raw HTTP/1.1 connection, an event at a time, as a frontend would read it."""

import http.client
import json
import socket
from urllib.parse import urlsplit


class EventStreamClient:
    """POSTs with Accept: text/event-stream and reads the answer's events one by one as they arrive."""

    def __init__(self, base_url: str, path: str, *, headers: dict, body: dict, timeout: float = 15.0):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream", **headers},
        )
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.headers = self.response.headers
        self.received = b""  # every body byte so far, chunk framing removed
        self._pending = b""

    def next_event(self, *, comments: bool = False) -> tuple[str, object] | None:
        """The next event as (name, data), or ("comment", text) when `comments`; None at the end of the body."""
        while True:
            if b"\n\n" in self._pending:
                block, self._pending = self._pending.split(b"\n\n", 1)
                event = _parse_block(block.decode())
                if event is not None and (comments or event[0] != "comment"):
                    return event
                continue
            chunk = self.response.read1(65536)
            if not chunk:
                return None
            self.received += chunk
            self._pending += chunk

    def events(self) -> list[tuple[str, object]]:
        """Every event left, until the body ends."""
        out = []
        while (event := self.next_event()) is not None:
            out.append(event)
        return out

    def json(self) -> object:
        return json.loads(self.response.read())

    def hang_up(self) -> None:
        """Goes away mid-stream, as a closed browser tab does."""
        sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()

    def close(self) -> None:
        self.connection.close()


def _parse_block(block: str) -> tuple[str, object] | None:
    name, data = "message", None
    for line in block.split("\n"):
        if line.startswith(":"):
            return "comment", line[1:].strip()
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
    return (name, data) if data is not None else None
