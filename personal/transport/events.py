"""The text/event-stream format (WHATWG HTML, server-sent events), parsed as bytes arrive, in linear time.

Each byte is looked at once: a chunk is split at its own line ends, and an unfinished line waits as a list of
pieces joined once it ends (rescanning it on every chunk would make a large event quadratic).
"""

import re
from dataclasses import dataclass

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: str


class EventTooLarge(Exception):
    """One upstream event is over the size cap before it is complete."""


class EventParser:
    """Fed bytes as they arrive. Lines end in CRLF, LF or CR; a blank line ends an event; `:` starts a comment;
    `id` and `retry` are ignored. What an unfinished event holds is capped, so a peer that never ends one cannot
    grow memory."""

    def __init__(self, *, max_event_bytes: int):
        self.max_event_bytes = max_event_bytes
        self._pending: list[bytes] = []  # the unfinished line's pieces
        self._pending_size = 0
        self._name = ""
        self._data: list[str] = []
        self._size = 0  # the finished lines of the unfinished event
        self._after_cr = False  # the last chunk ended in CR: a LF starting the next one is its CRLF's second half

    def feed(self, chunk: bytes) -> list[Event]:
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = False
        events: list[Event] = []
        start = 0
        for end in _LINE_END.finditer(chunk):
            piece = chunk[start : end.start()]
            if self._pending:
                piece = b"".join([*self._pending, piece])
                self._pending, self._pending_size = [], 0
            start = end.end()
            self._after_cr = end.group() == b"\r" and start == len(chunk)
            event = self._line(piece.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        if start < len(chunk):
            self._pending.append(chunk[start:])
            self._pending_size += len(chunk) - start
        if self._size + self._pending_size > self.max_event_bytes:
            raise EventTooLarge(f"an event over {self.max_event_bytes} bytes")
        return events

    def _line(self, line: str) -> Event | None:
        if not line:
            event = Event(self._name or "message", "\n".join(self._data)) if self._data else None
            self._name, self._data, self._size = "", [], 0
            return event
        if line.startswith(":"):
            return None  # a comment: upstream's keep-alive
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._name = value
        elif field == "data":
            self._data.append(value)
        self._size += len(line) + 1
        return None
