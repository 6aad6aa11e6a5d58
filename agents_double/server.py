"""The agents double over HTTP/1.1 keep-alive: the agents API, plus /__* control routes for tests.

Agents API (X-API-Key and X-User-Id required):
    GET/POST /entities, GET/PATCH/DELETE /entities/{name}, POST /entities/{name}/pause|resume,
    POST /entities/{name}/chat {"content"}, GET /entities/{name}/chat?limit=&before=
    POST /entities/{name}/chat with Accept: text/event-stream: 200 text/event-stream, chunked: `delta` events
    {"text"}, then `done` {"message_id", "reply"} (the stream_* switches pace it, add noise or break it)
Control (no key; a test double only ever listens on a private address):
    GET /__health, GET|POST|DELETE /__control (switches), GET|DELETE /__requests (what was received),
    GET /__stats (connections, requests, in flight), GET /__entities (everything held), POST /__reset (all of it),
    GET /__streams (each streamed chat: request id, deltas sent, when the first left, how it ended)
"""

import collections
import hmac
import json
import logging
import math
import select
import socket
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from agents_double.faults import SwitchBoard, Switches
from agents_double.store import ContractError, Store

logger = logging.getLogger("agents_double")

HANG_SECONDS = 300


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self.connections = 0  # TCP connections that carried at least one agents API call
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def reset(self) -> None:
        """Counters start again; calls still in flight keep counting themselves out."""
        with self._lock:
            self.connections = 0
            self.requests = 0
            self.max_in_flight = self.in_flight

    def connection(self) -> None:
        with self._lock:
            self.connections += 1

    def begin(self) -> None:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "connections": self.connections,
                "requests": self.requests,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }


class DoubleServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple, *, api_key: str, switches: Switches | None = None, record_limit: int = 10_000):
        self.api_key = api_key
        self.store = Store()
        self.board = SwitchBoard(switches)
        self.stats = Stats()
        self.received: collections.deque = collections.deque(maxlen=record_limit)
        self.received_lock = threading.Lock()
        self.streams: collections.deque = collections.deque(maxlen=record_limit)
        super().__init__(address, Handler)

    def reset(self) -> None:
        self.store.reset()
        self.board.clear()
        self.stats.reset()
        with self.received_lock:
            self.received.clear()
            self.streams.clear()

    def stream_begin(self, request_id: str) -> dict:
        record = {"request_id": request_id, "deltas_sent": 0, "first_delta_ns": None, "outcome": None, "ended_ns": None}
        with self.received_lock:
            self.streams.append(record)
        return record

    def stream_snapshot(self) -> list[dict]:
        with self.received_lock:
            return [dict(record) for record in self.streams]


class PeerGone(Exception):
    """The client closed its end of a streamed chat."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a client's connection pool is really exercised
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK adds ~40 ms to each.
    disable_nagle_algorithm = True
    server: DoubleServer
    server_version = "agents-double/1"

    def setup(self) -> None:
        super().setup()
        self._counted = False

    def log_message(self, format: str, *args) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    # --- one request ----------------------------------------------------------------------

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        if self.headers.get("Transfer-Encoding"):
            self._json(411, {"detail": "Content-Length required"}, close=True)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if path.startswith("/__"):
            self._control(path, body)
            return
        if not self._counted:
            self._counted = True
            self.server.stats.connection()
        self._record(body)
        self.server.stats.begin()
        try:
            call = f"{self.command} {path}"
            delay = self.server.board.latency_for(call)
            if delay:
                time.sleep(delay)
            generation = self.server.board.generation()
            fault = self.server.board.take_fault(call)
            if fault is not None:
                self._fault(fault, generation)
                return
            self._agents(path, query, body)
        finally:
            self.server.stats.end()

    def _record(self, body: bytes) -> None:
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", errors="replace"),
        }
        with self.server.received_lock:
            self.server.received.append(entry)

    # --- the agents API -------------------------------------------------------------------

    def _agents(self, path: str, query: str, body: bytes) -> None:
        if not hmac.compare_digest(self.headers.get("X-API-Key", "").encode(), self.server.api_key.encode()):
            self._json(401, {"detail": "Invalid API key"})
            return
        owner = self.headers.get("X-User-Id", "").strip()
        if not owner:
            self._json(400, {"detail": "X-User-Id header is required"})
            return
        segments = [unquote(s) for s in path.split("/")[1:]]
        if self._wants_stream(segments):
            try:
                reply = self.server.store.chat(owner, segments[1], _json_object(body))
            except ContractError as e:
                self._json(e.status, {"detail": e.detail})
                return
            self._stream_reply(reply)
            return
        try:
            status, payload = self._route(owner, segments, parse_qs(query), body)
        except ContractError as e:
            status, payload = e.status, {"detail": e.detail}
        else:
            payload = _with_extra_fields(payload, self.server.board.extra_fields())
        self._json(status, payload)

    def _route(self, owner: str, segments: list[str], query: dict, body: bytes) -> tuple[int, object]:
        store, method = self.server.store, self.command
        if segments[0] != "entities" or len(segments) > 3 or (len(segments) > 1 and not segments[1]):
            raise ContractError(404, "Not Found")
        if len(segments) == 1:
            if method == "GET":
                return 200, store.owned_by(owner)
            if method == "POST":
                return 201, store.create(owner, _json_object(body))
        elif len(segments) == 2:
            name = segments[1]
            if method == "GET":
                return 200, store.get(owner, name)
            if method == "PATCH":
                return 200, store.update(owner, name, _json_object(body))
            if method == "DELETE":
                store.delete(owner, name)
                return 204, None
        else:
            name, verb = segments[1], segments[2]
            if verb in ("pause", "resume") and method == "POST":
                return 200, store.set_status(owner, name, "paused" if verb == "pause" else "active")
            if verb == "chat" and method == "POST":
                return 201, store.chat(owner, name, _json_object(body))
            if verb == "chat" and method == "GET":
                return 200, store.history(owner, name, _first(query, "limit"), _first(query, "before"))
            if verb not in ("pause", "resume", "chat"):
                raise ContractError(404, "Not Found")
        raise ContractError(405, "Method Not Allowed")

    # --- a streamed chat -------------------------------------------------------------------

    def _wants_stream(self, segments: list[str]) -> bool:
        return (
            self.command == "POST"
            and len(segments) == 3
            and segments[0] == "entities"
            and segments[2] == "chat"
            and "text/event-stream" in self.headers.get("Accept", "")
            and self.server.board.current().stream_mode == "sse"
        )

    def _stream_reply(self, reply: dict) -> None:
        switches, generation = self.server.board.current(), self.server.board.generation()
        record = self.server.stream_begin(self.headers.get("X-Request-ID", ""))
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")  # said, so that no client pools a connection about to close
        self.end_headers()
        outcome = "done"
        try:
            self._wait(switches, seconds=switches.stream_first_delta_ms / 1000)
            for index, piece in enumerate(_pieces(reply["reply"], switches.stream_deltas)):
                if index > 0:
                    if switches.stream_step:
                        generation = self._wait(switches, seconds=HANG_SECONDS, until_change_from=generation)
                    else:
                        self._wait(switches, seconds=switches.stream_delta_ms / 1000)
                    if switches.stream_extra_events:
                        self._chunk(b'event: usage\ndata: {"tokens": 3}\n\nid: 7\n: thinking\n\n')
                if index == 0:
                    record["first_delta_ns"] = time.monotonic_ns()  # CLOCK_MONOTONIC: comparable across processes
                record["deltas_sent"] += 1  # before the write: a client that has the delta finds it counted
                self._event("delta", {"text": piece})
                if index == 0 and switches.stream_fault:
                    outcome = self._stream_fault(switches, generation)
                    return
            self._event("done", {"message_id": reply["message_id"], "reply": reply["reply"]})
            self._chunk(b"")
        except (PeerGone, BrokenPipeError, ConnectionResetError):
            outcome = "client_gone"
        finally:
            record["outcome"], record["ended_ns"] = outcome, time.monotonic_ns()

    def _stream_fault(self, switches: Switches, generation: int) -> str:
        fault = switches.stream_fault
        if fault == "error_event":
            self._event("error", {"detail": switches.stream_error_detail})
            self._chunk(b"")
        elif fault == "cut":
            self._reset_connection()
        elif fault == "silence":
            self._wait(switches, seconds=HANG_SECONDS, until_change_from=generation)
        elif fault == "malformed":
            self._chunk(b"event: delta\ndata: {not json\n\n")
            self._chunk(b"")
        elif fault == "oversized_event":
            self._chunk(b'event: delta\ndata: {"text": "' + b"x" * switches.oversize_bytes + b'"}\n\n')
            self._chunk(b"")
        elif fault == "no_done":
            self._chunk(b"")
        return fault

    def _wait(self, switches: Switches, *, seconds: float, until_change_from: int | None = None) -> int:
        """Waits `seconds`, or until the switches change; comments go out meanwhile if asked. The peer closing
        its end raises PeerGone at once. Returns the switches' generation."""
        board, ends = self.server.board, time.monotonic() + seconds
        keepalive = switches.stream_keepalive_ms / 1000
        next_ping = time.monotonic() + keepalive if keepalive else math.inf
        step = 0.02 if until_change_from is not None else 0.25
        while True:
            now = time.monotonic()
            generation = board.generation()
            if now >= ends or (until_change_from is not None and generation != until_change_from):
                return generation
            if now >= next_ping:
                self._chunk(b": ping\n\n")
                next_ping = now + keepalive
            readable, _, _ = select.select([self.connection], [], [], max(min(step, ends - now, next_ping - now), 0))
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        raise PeerGone()
                except ConnectionResetError:
                    raise PeerGone() from None
                time.sleep(step)  # the peer sent something unasked; it is not read

    def _event(self, name: str, payload: dict) -> None:
        self._chunk(f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode())

    def _chunk(self, data: bytes) -> None:
        """One HTTP/1.1 chunk (b"": the last one), sent at once."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    # --- faults ---------------------------------------------------------------------------

    def _fault(self, switches: Switches, generation: int) -> None:
        kind = switches.fault
        if kind == "down":
            self._reset_connection()
        elif kind == "hang":
            self.server.board.wait_for_change(generation, HANG_SECONDS)
            self._reset_connection()
        elif kind == "reset_mid_body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "4096")
            self.end_headers()
            self.wfile.write(b'{"name": "half')
            self.wfile.flush()
            self._reset_connection()
        elif kind == "non_json":
            self._raw(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        elif kind == "unauthorized":
            self._json(401, {"detail": "Invalid API key"})
        elif kind == "trickle":
            self._trickle(switches.trickle_ms / 1000, generation)
        elif kind == "gzip_bomb":
            self._raw(
                200, _gzip_bomb(switches.bomb_inflated_bytes), "application/json", headers={"Content-Encoding": "gzip"}
            )
        elif kind == "oversized":
            owner = self.headers.get("X-User-Id", "")
            self._raw(200, _oversized_json(switches.oversize_bytes, owner), "application/json")
        else:
            self._raw(
                switches.fault_status,
                switches.fault_body.encode(),
                switches.fault_content_type,
                headers=switches.fault_headers,
            )

    def _trickle(self, interval: float, generation: int) -> None:
        """A valid answer, one byte at a time, until it is all sent, the peer leaves or the switches change."""
        body = json.dumps([]).encode()
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            len(body),
            body,
        )
        self.close_connection = True
        for byte in answer:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            if self.server.board.wait_for_change(generation, interval):
                return

    def _reset_connection(self) -> None:
        """An abortive close (RST), as when a process dies or a proxy gives up."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # --- control --------------------------------------------------------------------------

    def _control(self, path: str, body: bytes) -> None:
        server, method = self.server, self.command
        if path == "/__health" and method == "GET":
            self._json(200, {"status": "ok"})
        elif path == "/__control" and method == "GET":
            self._json(200, server.board.snapshot())
        elif path == "/__control" and method == "POST":
            try:
                switches = server.board.update(_json_object(body))
            except (ContractError, ValueError, TypeError) as e:
                self._json(400, {"detail": str(e)})
                return
            if switches.get("fault") == "gzip_bomb":  # compressed now (seconds on a slow machine), not in the call
                _gzip_bomb(switches["bomb_inflated_bytes"])
            self._json(200, switches)
        elif path == "/__control" and method == "DELETE":
            self._json(200, server.board.clear())
        elif path == "/__requests" and method == "GET":
            with server.received_lock:
                self._json(200, list(server.received))
        elif path == "/__requests" and method == "DELETE":
            with server.received_lock:
                server.received.clear()
            self._json(200, [])
        elif path == "/__stats" and method == "GET":
            self._json(200, server.stats.as_dict())
        elif path == "/__streams" and method == "GET":
            self._json(200, server.stream_snapshot())
        elif path == "/__entities" and method == "GET":
            self._json(200, server.store.dump())
        elif path == "/__reset" and method == "POST":
            server.reset()
            self._json(200, {"status": "reset"})
        else:
            self._json(404, {"detail": "Not Found"})

    # --- writing --------------------------------------------------------------------------

    def _json(self, status: int, payload: object, *, close: bool = False) -> None:
        if status == 204:
            self.send_response(204)
            self.end_headers()
            return
        self._raw(status, json.dumps(payload).encode(), "application/json", close=close)

    def _raw(self, status: int, data: bytes, content_type: str, *, headers: dict | None = None, close=False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)


_bombs: dict[int, bytes] = {}


def _gzip_bomb(inflated_bytes: int) -> bytes:
    if inflated_bytes not in _bombs:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
        block = b"0" * (1024 * 1024)
        parts = [compressor.compress(block) for _ in range(inflated_bytes // len(block))]
        _bombs[inflated_bytes] = b"".join(parts) + compressor.flush()
    return _bombs[inflated_bytes]


def _oversized_json(size: int, owner: str) -> bytes:
    """A list of the caller's entities, each with a long description: a valid answer, only too big."""
    entity = {"display_name": "", "description": "x" * 1000, "status": "active", "owner_user_id": owner}
    count = max(1, size // 1100)
    return json.dumps([{"name": f"big-{i}", **entity} for i in range(count)]).encode()


def _pieces(text: str, count: int) -> list[str]:
    """`text` in `count` pieces of (nearly) equal length; count 0: one piece per word, its space kept."""
    if count <= 0:
        words = text.split(" ")
        return [word + " " for word in words[:-1]] + [words[-1]] if text else [""]
    size = max(math.ceil(len(text) / count), 1)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _with_extra_fields(payload: object, extra: dict) -> object:
    if not extra:
        return payload
    if isinstance(payload, dict):
        return {**payload, **extra}
    if isinstance(payload, list):
        return [{**item, **extra} if isinstance(item, dict) else item for item in payload]
    return payload


def _json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise ContractError(422, "Body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ContractError(422, "Body must be a JSON object")
    return payload


def _first(query: dict, key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None
