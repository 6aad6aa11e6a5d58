"""A chat's reply as Server-Sent Events: upstream's events parsed as they arrive and relayed one by one.

Out go three events, as upstream's contract has them: `delta` {"text"} any number of times, then `done`
{"message_id", "reply"} (what the non-streaming 201 answers) or `error` {"detail", "status"} (the status the
non-streaming call would have had), and the stream ends. Upstream's unknown events and comments are dropped;
its error details and bodies are logged, never relayed.

The relay waits on upstream's bytes (read as they arrive: personal/transport/stream.py) never longer than
the next thing due: a keep-alive comment to the client (every PERSONAL_STREAM_KEEPALIVE_SECONDS of silence), the
gap deadline (INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS between two upstream events), the total deadline
(PERSONAL_STREAM_MAX_SECONDS) or the drain deadline of a stopping server (wisdom/draining.py: then an `error` with
status 503). A client that leaves is noticed at once, by its socket's end (watched in the same wait), and upstream
is closed.
"""

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import APIException

from personal.client import ChatOpened, chat_reply, parse_json
from personal.errors import AgentsError, AgentsFailed, AgentsTimeout, StreamStopped
from personal.serializers import reply_public
from personal.transport import Event, EventParser, EventTooLarge, UpstreamStream
from personal.upstream_call import agents_error
from wisdom import draining, request_context
from wisdom.metrics import CLIENT_GONE_OUTCOME, STOPPED_OUTCOME

logger = logging.getLogger(__name__)

KEEPALIVE = b": keep-alive\n\n"
OPENED = b": stream open\n\n"  # the first bytes: the server sends the status and headers with them, at once
LOGGED_DETAIL_CHARS = 500
# After `done`, how long upstream's body end (its terminating chunk) is awaited, so its connection serves the next
# call instead of being closed: it follows the last event at once, in a separate write.
BODY_END_SECONDS = 0.25

# How a stream ended, for the access line and the message count.
DONE = "done"
ERROR = "error"
CLIENT_GONE = "client_gone"

__all__ = ["Event", "EventParser", "EventRelay", "EventTooLarge", "RelayLimits"]


class _ClientGone(Exception):
    """The client's connection ended while the relay waited."""


def sse(name: str, payload: dict) -> bytes:
    # ensure_ascii: a JSON text then holds no raw line break (one data line) and any upstream string encodes
    return f"event: {name}\ndata: {json.dumps(payload, ensure_ascii=True)}\n\n".encode()


def error_event(error: APIException) -> bytes:
    return sse("error", {"detail": str(error.detail), "status": error.status_code})


@dataclass(frozen=True, slots=True)
class RelayLimits:
    keepalive_seconds: float
    gap_seconds: float
    gives_up_at: float  # time.monotonic()
    max_event_bytes: int
    body_end_seconds: float = BODY_END_SECONDS


class EventRelay:
    """The response's iterator: the bytes of each client-bound event, written by the server as they come.

    `close()` (the server calls it when the client is gone, or after the last event) ends the work: upstream's
    connection is closed, the upstream call is recorded, and `on_end` is told how the stream ended (done, error
    or client_gone), once.
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
        upstream = self._opened.events
        if upstream is not None:  # after `done`: the client has its last event, upstream's end may still come
            upstream.close(end_within=self._limits.body_end_seconds)

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
            context = request_context.current()
            if context is not None and context.client_socket is not None:
                self._opened.events.watch_client(context.client_socket)
            yield from self._relay_events(self._opened.events)
        except GeneratorExit:
            self._left()
            raise
        except _ClientGone:
            self._left()
        except (AgentsError, StreamStopped) as e:
            self._finish(ERROR, e)
            yield error_event(e)
        except Exception as e:
            try:
                error = agents_error(e, method="POST", path=self._opened.call.path if self._opened.call else "-")
            except Exception:
                logger.exception("chat stream relay failed")
                error = AgentsFailed("relay failed")
            self._finish(ERROR, error)
            yield error_event(error)

    def _relay_events(self, upstream: UpstreamStream) -> Iterator[bytes]:
        limits = self._limits
        parser = EventParser(max_event_bytes=limits.max_event_bytes)
        last_event = last_write = time.monotonic()
        while True:
            gap_ends = last_event + limits.gap_seconds
            drain_ends = draining.drain_deadline()
            wait_until = min(gap_ends, limits.gives_up_at, drain_ends, last_write + limits.keepalive_seconds)
            chunk = upstream.read(timeout=wait_until - time.monotonic())
            now = time.monotonic()
            if upstream.client_gone:
                raise _ClientGone()
            # checked whether or not bytes came: an upstream that never pauses must still meet these
            if now >= drain_ends:
                logger.warning("stream ended at the drain deadline after %d events", self._events_relayed)
                raise StreamStopped()
            if now >= limits.gives_up_at or (chunk is None and now >= gap_ends):
                logger.error(
                    "agents service stream exceeded its %s after %d events",
                    "total deadline" if now >= limits.gives_up_at else "gap deadline",
                    self._events_relayed,
                )
                raise AgentsTimeout("stream deadline")
            if chunk is None:
                if now >= last_write + limits.keepalive_seconds:
                    yield KEEPALIVE
                    last_write = now
                continue
            if not chunk:
                logger.error("agents service stream ended without a done event after %d events", self._events_relayed)
                raise AgentsFailed("stream ended early")
            for event in parser.feed(chunk):
                last_event = now
                out = self._translate(event)
                if out is None:
                    continue
                yield out
                last_write = time.monotonic()
                if self._outcome == DONE:
                    return

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

    def _left(self) -> None:
        logger.info("client went away after %d relayed events; upstream connection closed", self._events_relayed)
        self._finish(CLIENT_GONE)

    def _done(self, reply: dict) -> bytes:
        self._finish(DONE)
        return sse("done", reply_public(reply))

    def _finish(self, outcome: str, error: Exception | None = None) -> None:
        if self._outcome is not None:
            return
        self._outcome = outcome
        upstream = self._opened.events
        if upstream is not None and outcome != DONE:  # a stream that ended well is closed once its client has all
            upstream.close()
        call = self._opened.call
        if call is not None:
            call.end(error, outcome=_call_outcome(outcome, error))
        context = request_context.current()
        if context is not None:
            context.stream_outcome = outcome
        if self._on_end is not None:
            self._on_end(outcome)


def _call_outcome(outcome: str, error: Exception | None) -> str | None:
    """The upstream call's outcome when the stream's own says it (the client left, the server stopped)."""
    if outcome == CLIENT_GONE:
        return CLIENT_GONE_OUTCOME
    if isinstance(error, StreamStopped):
        return STOPPED_OUTCOME
    return None


def _payload(event: Event) -> dict:
    try:
        payload = parse_json(event.data)
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
