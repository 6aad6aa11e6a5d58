"""A chat's reply as Server-Sent Events: upstream's events parsed as they arrive and relayed one by one.

Out go three events, as upstream's contract has them: `delta` {"text"} any number of times, then `done`
{"message_id", "reply"} (what the non-streaming 201 answers) or `error` {"detail", "status"} (the status the
non-streaming call would have had), and the stream ends. Upstream's unknown events and comments are dropped;
its error details and bodies are logged, never relayed.

One thread relays one stream and never blocks longer than the next thing due: upstream's next bytes, a
keep-alive comment to the client (every PERSONAL_STREAM_KEEPALIVE_SECONDS of upstream silence), the gap
deadline (INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS between two upstream events) or the total deadline
(PERSONAL_STREAM_MAX_SECONDS). A client that went away is noticed when the next event or keep-alive is
written (the server's write fails and closes this iterator): upstream's connection is closed then.
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from personal.client import ChatOpened, chat_reply, parse_json
from personal.errors import AgentsError, AgentsFailed, AgentsTimeout
from personal.serializers import reply_public
from personal.transport import StreamBroken, UpstreamStream
from wisdom import request_context

logger = logging.getLogger(__name__)

KEEPALIVE = b": keep-alive\n\n"
OPENED = b": stream open\n\n"  # the first bytes: the server sends the status and headers with them, at once
LOGGED_DETAIL_CHARS = 500

# How a stream ended, for the access line and the message count.
DONE = "done"
ERROR = "error"
CLIENT_GONE = "client_gone"


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    data: str


class EventTooLarge(Exception):
    """One upstream event is over the size cap before it is complete."""


class EventParser:
    """The text/event-stream format (WHATWG HTML, server-sent events), fed bytes as they arrive.

    Lines end in CRLF, LF or CR; a blank line ends an event; `:` starts a comment; `id` and `retry` are
    ignored. What an unfinished event holds is capped, so a peer that never ends one cannot grow memory.
    """

    _LINE_END = re.compile(rb"\r\n|\r|\n")

    def __init__(self, *, max_event_bytes: int):
        self.max_event_bytes = max_event_bytes
        self._buffer = b""
        self._name = ""
        self._data: list[str] = []
        self._size = 0
        self._after_cr = False  # the last chunk ended in CR: a LF starting the next one is its CRLF's second half

    def feed(self, chunk: bytes) -> list[Event]:
        if self._after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]
        self._after_cr = False
        self._buffer += chunk
        events: list[Event] = []
        start = 0
        while True:
            end = self._LINE_END.search(self._buffer, start)
            if end is None:
                break  # no whole line yet
            line = self._buffer[start : end.start()].decode("utf-8", errors="replace")
            start = end.end()
            self._after_cr = end.group() == b"\r" and start == len(self._buffer)
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._buffer = self._buffer[start:]
        if self._size + len(self._buffer) > self.max_event_bytes:
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


def sse(name: str, payload: dict) -> bytes:
    # ensure_ascii: a JSON text then holds no raw line break (one data line) and any upstream string encodes
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=True)}\n\n".encode()


def error_event(error: AgentsError) -> bytes:
    return sse("error", {"detail": str(error.detail), "status": error.status_code})


@dataclass(frozen=True, slots=True)
class RelayLimits:
    keepalive_seconds: float
    gap_seconds: float
    gives_up_at: float  # time.monotonic()
    max_event_bytes: int


class EventRelay:
    """The response's iterator: the bytes of each client-bound event, written by the server as they come.

    `close()` (the server calls it when the client is gone, or after the last event) ends the work: upstream's
    connection is closed and `on_end` is told how the stream ended (done, error or client_gone), once.
    """

    def __init__(self, opened: ChatOpened, *, limits: RelayLimits, on_end: Callable[[str], None] | None = None):
        self._opened = opened
        self._limits = limits
        self._on_end = on_end
        self._outcome: str | None = None
        self._started = time.perf_counter()
        self._events_relayed = 0
        self._events = self._relay()

    def __iter__(self) -> "EventRelay":
        return self

    def __next__(self) -> bytes:
        return next(self._events)

    def close(self) -> None:
        self._events.close()
        self._finish(CLIENT_GONE)  # a no-op when the relay already ended

    # --- the relay ------------------------------------------------------------------------

    def _relay(self) -> Iterator[bytes]:
        try:
            yield OPENED
            reply = self._opened.reply
            if reply is not None:  # upstream did not stream: one delta with the whole reply, then done
                yield sse("delta", {"text": reply["reply"]})
                self._events_relayed += 1
                yield self._done(reply)
                return
            yield from self._relay_events(self._opened.events)
        except GeneratorExit:
            logger.info("client went away after %d relayed events; upstream connection closed", self._events_relayed)
            self._finish(CLIENT_GONE)
            raise
        except AgentsError as e:
            self._finish(ERROR)
            yield error_event(e)
        except StreamBroken as e:
            logger.error("agents service stream broke off after %d events: %s", self._events_relayed, e)
            self._finish(ERROR)
            yield error_event(AgentsFailed("stream broke off"))
        except Exception:
            logger.exception("chat stream relay failed")
            self._finish(ERROR)
            yield error_event(AgentsFailed("relay failed"))

    def _relay_events(self, upstream: UpstreamStream) -> Iterator[bytes]:
        limits = self._limits
        parser = EventParser(max_event_bytes=limits.max_event_bytes)
        last_event = last_write = time.monotonic()
        while True:
            gap_ends = last_event + limits.gap_seconds
            chunk = upstream.read(until=min(gap_ends, limits.gives_up_at, last_write + limits.keepalive_seconds))
            now = time.monotonic()
            if chunk is None:
                if now >= limits.gives_up_at or now >= gap_ends:
                    logger.error(
                        "agents service stream exceeded its %s after %d events",
                        "total deadline" if now >= limits.gives_up_at else "gap deadline",
                        self._events_relayed,
                    )
                    raise AgentsTimeout("stream deadline")
                yield KEEPALIVE
                last_write = now
                continue
            if not chunk:
                logger.error("agents service stream ended without a done event after %d events", self._events_relayed)
                raise AgentsFailed("stream ended early")
            for event in self._parse(parser, chunk):
                last_event = now
                out = self._translate(event)
                if out is None:
                    continue
                yield out
                last_write = time.monotonic()
                if self._outcome == DONE:
                    return

    def _parse(self, parser: EventParser, chunk: bytes) -> list[Event]:
        try:
            return parser.feed(chunk)
        except EventTooLarge as e:
            logger.error("agents service stream refused: %s", e)
            raise AgentsFailed("event too large") from e

    def _translate(self, event: Event) -> bytes | None:
        """The client-bound bytes for one upstream event; None drops it (an event this contract does not know)."""
        if event.name == "delta":
            text = _field(event, "text", str)
            self._events_relayed += 1
            return sse("delta", {"text": text})
        if event.name == "done":
            try:
                reply = chat_reply(_payload(event))
            except AgentsFailed:
                logger.error("agents service stream's done event lacks message_id or reply")
                raise
            return self._done(reply)
        if event.name == "error":
            detail = _payload(event).get("detail")
            logger.error("agents service stream sent an error: %r", str(detail)[:LOGGED_DETAIL_CHARS])
            raise AgentsFailed("upstream error event")
        logger.debug("dropped upstream event %r", event.name[:64])
        return None

    def _done(self, reply: dict) -> bytes:
        self._finish(DONE)
        return sse("done", reply_public(reply))

    def _finish(self, outcome: str) -> None:
        if self._outcome is not None:
            return
        self._outcome = outcome
        upstream = self._opened.events
        if upstream is not None:
            upstream.close()
        context = request_context.current()
        if context is not None:
            context.stream_outcome = outcome
            elapsed = (time.perf_counter() - self._started) * 1000
            context.upstream_ms = round((context.upstream_ms or 0) + elapsed, 2)
        if self._on_end is not None:
            self._on_end(outcome)


def _payload(event: Event) -> dict:
    try:
        payload = parse_json(event.data.encode())
    except (ValueError, RecursionError) as e:
        logger.error("agents service stream's %r event is not JSON: %r", event.name[:64], event.data[:100])
        raise AgentsFailed(f"{event.name} event not JSON") from e
    if not isinstance(payload, dict):
        logger.error("agents service stream's %r event is not a JSON object", event.name[:64])
        raise AgentsFailed(f"{event.name} event not an object")
    return payload


def _field(event: Event, name: str, kind: type) -> Any:
    value = _payload(event).get(name)
    if not isinstance(value, kind):
        logger.error("agents service stream's %r event lacks %r", event.name[:64], name)
        raise AgentsFailed(f"{event.name} event lacks {name}")
    return value
