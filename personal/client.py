"""The agents service's calls (contract: personal/agents.openapi.yaml): paths, headers, time-outs, typed errors.

One AgentsClient per process over one bounded session (personal/transport/): pooled keep-alive connections, a
total deadline per call and a cap on what is read. Plain calls and a chat asked for as a stream take one path:
each is an UpstreamCall (personal/upstream_call.py: the database connection released before the wait, one
timing, one error mapping, one metrics recorder). A stream's call ends when its relay (personal/stream.py) ends.
"""

import json
import logging
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from urllib3.exceptions import ProtocolError

from personal import agents_contract
from personal.errors import AgentsCredentialsRejected, AgentsFailed, AgentsRateLimited, AgentsRefused
from personal.transport import BoundedResponse, BoundedSession, UpstreamStream
from personal.transport.deadline import total_deadline
from personal.upstream_call import UpstreamCall, agents_error
from wisdom import request_context

logger = logging.getLogger(__name__)

# What the agents service may refuse each call with (its contract, personal/agents.openapi.yaml): that status passes
# through with upstream's detail. Any other refusal breaks the contract and is a 502, so each route documents
# exactly what it can answer (personal/openapi.py reads this table).
REFUSALS: dict[str, frozenset[int]] = agents_contract.refusals()
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE"})
LOGGED_BODY_CHARS = 500
DETAIL_MAX_CHARS = 1000
_RETRY_AFTER = re.compile(r"[A-Za-z0-9 ,:+\-]{1,64}")  # delta-seconds or an HTTP-date, nothing else
EVENT_STREAM = "text/event-stream"


@dataclass(frozen=True, slots=True)
class ChatOpened:
    """Upstream's answer to a chat asked for as a stream: its events still to read, or (an upstream that does not
    stream) the whole reply, already checked like `message_send`'s."""

    events: UpstreamStream | None = None
    reply: dict | None = None
    call: UpstreamCall | None = None  # still open while `events` are read: the relay ends it


def entity_path(name: str, *rest: str) -> str:
    """The one place a name becomes part of an upstream URL: always exactly one encoded segment."""
    if name in (".", ".."):
        # requests decodes %2E and urllib3 then resolves dot segments: no encoding survives, so refuse
        raise ValueError("an entity name cannot be '.' or '..'")
    return "/".join(["/entities", quote(name, safe=""), *rest])


class AgentsClient:
    """Thread-safe: the session is only read after construction; its adapter's pool is thread-safe."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float,
        chat_timeout: float,
        connect_timeout: float,
        pool_size: int,
        max_response_bytes: int,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.chat_timeout = chat_timeout
        self.connect_timeout = connect_timeout
        self.max_response_bytes = max_response_bytes
        self.transport = BoundedSession(
            pool_size=pool_size,
            connect_timeout=connect_timeout,
            max_body_bytes=max_response_bytes,
            headers={"X-API-Key": api_key, "Accept": "application/json", "User-Agent": "wisdom"},
        )

    @classmethod
    def from_settings(cls) -> "AgentsClient":
        return cls(
            base_url=settings.INTUNO_AGENTS_BASE_URL,
            api_key=settings.INTUNO_AGENTS_API_KEY,
            timeout=settings.INTUNO_AGENTS_TIMEOUT_SECONDS,
            chat_timeout=settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS,
            connect_timeout=settings.INTUNO_AGENTS_CONNECT_TIMEOUT_SECONDS,
            pool_size=settings.INTUNO_AGENTS_POOL_SIZE,
            max_response_bytes=settings.INTUNO_AGENTS_MAX_RESPONSE_BYTES,
        )

    def close(self) -> None:
        self.transport.close()

    # --- the contract ---------------------------------------------------------------------

    def entity_list(self, *, user_id: uuid.UUID) -> list[dict]:
        return _objects(self._call("GET", "/entities", user_id=user_id, refusals=REFUSALS["entity_list"]))

    def entity_get(self, *, user_id: uuid.UUID, name: str) -> dict:
        return _object(self._call("GET", entity_path(name), user_id=user_id, refusals=REFUSALS["entity_get"]))

    def entity_create(self, *, user_id: uuid.UUID, data: dict) -> dict:
        return _object(self._call("POST", "/entities", user_id=user_id, body=data, refusals=REFUSALS["entity_create"]))

    def entity_update(self, *, user_id: uuid.UUID, name: str, data: dict) -> dict:
        return _object(
            self._call("PATCH", entity_path(name), user_id=user_id, body=data, refusals=REFUSALS["entity_update"])
        )

    def entity_delete(self, *, user_id: uuid.UUID, name: str) -> None:
        self._call("DELETE", entity_path(name), user_id=user_id, expect_body=False, refusals=REFUSALS["entity_delete"])

    def entity_pause(self, *, user_id: uuid.UUID, name: str) -> dict:
        return _object(
            self._call("POST", entity_path(name, "pause"), user_id=user_id, refusals=REFUSALS["entity_pause"])
        )

    def entity_resume(self, *, user_id: uuid.UUID, name: str) -> dict:
        return _object(
            self._call("POST", entity_path(name, "resume"), user_id=user_id, refusals=REFUSALS["entity_resume"])
        )

    def message_send(self, *, user_id: uuid.UUID, name: str, content: str) -> dict:
        return chat_reply(
            self._call(
                "POST",
                entity_path(name, "chat"),
                user_id=user_id,
                body={"content": content},
                seconds=self.chat_timeout,
                refusals=REFUSALS["message_send"],
            )
        )

    def message_stream(self, *, user_id: uuid.UUID, name: str, content: str, gives_up_at: float) -> ChatOpened:
        """Asks for the reply as a stream and waits for upstream's status and headers, at most the chat time-out
        (and never past `gives_up_at`, monotonic). An error before the stream starts raises like `message_send`."""
        path = entity_path(name, "chat")
        request_id = _outbound_request_id()
        headers = {
            "X-User-Id": str(user_id),
            "X-Request-ID": request_id,
            "Accept": EVENT_STREAM,
            "Content-Type": "application/json",
        }
        body = json.dumps({"content": content}, ensure_ascii=False).encode()
        seconds = max(min(self.chat_timeout, gives_up_at - time.monotonic()), 0.001)
        call = UpstreamCall("POST", path)
        try:
            try:
                stream = self.transport.open("POST", self.base_url + path, seconds=seconds, headers=headers, data=body)
            except Exception as e:
                raise agents_error(e, method="POST", path=path) from e
            call.answered(stream.status)
            if 200 <= stream.status < 300 and stream.content_type == EVENT_STREAM:
                return ChatOpened(events=stream, call=call)
            try:
                with total_deadline(max(gives_up_at - time.monotonic(), 0.001), f"POST {path} body"):
                    answer = stream.read_body()
            except Exception as e:
                raise agents_error(e, method="POST", path=path) from e
            finally:
                stream.close()
            response = BoundedResponse(status=stream.status, headers=stream.headers, body=answer)
            answered = self._interpret("POST", path, response, request_id=request_id, refusals=REFUSALS["message_send"])
            reply = chat_reply(answered)
        except Exception as e:
            call.end(e)
            raise
        call.end()
        return ChatOpened(reply=reply)

    def message_list(self, *, user_id: uuid.UUID, name: str, limit: int, before: str | None = None) -> list[dict]:
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        return _objects(
            self._call(
                "GET", entity_path(name, "chat"), user_id=user_id, params=params, refusals=REFUSALS["message_list"]
            )
        )

    # --- one call -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        user_id: uuid.UUID,
        refusals: frozenset[int],
        body: dict | None = None,
        params: dict | None = None,
        seconds: float | None = None,
        expect_body: bool = True,
    ) -> Any:
        request_id = _outbound_request_id()
        headers = {"X-User-Id": str(user_id), "X-Request-ID": request_id}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, ensure_ascii=False).encode()

        call = UpstreamCall(method, path)
        try:
            response = self._send(
                method, path, seconds=seconds or self.timeout, headers=headers, data=data, params=params
            )
            call.answered(response.status)
            result = self._interpret(
                method, path, response, request_id=request_id, refusals=refusals, expect_body=expect_body
            )
        except Exception as e:
            call.end(e)
            raise
        call.end()
        return result

    def _send(self, method: str, path: str, *, seconds: float, **kwargs: Any) -> BoundedResponse:
        url = self.base_url + path
        # Only an idempotent call is retried, once, and only when a pooled connection turned out dead.
        attempts = 2 if method in IDEMPOTENT_METHODS else 1
        give_up_at = time.monotonic() + seconds
        for attempt in range(1, attempts + 1):
            try:
                return self.transport.request(method, url, seconds=max(give_up_at - time.monotonic(), 0.001), **kwargs)
            except requests.ConnectionError as e:
                if attempt < attempts and _is_dropped_connection(e):
                    logger.info("agents service dropped a pooled connection; retrying %s %s once", method, path)
                    continue
                raise agents_error(e, method=method, path=path) from e
            except Exception as e:
                raise agents_error(e, method=method, path=path) from e
        raise AssertionError("unreachable")  # pragma: no cover

    def _interpret(
        self,
        method: str,
        path: str,
        response: BoundedResponse,
        *,
        request_id: str,
        refusals: frozenset[int],
        expect_body: bool = True,
    ) -> Any:
        status = response.status
        if 200 <= status < 300:
            if not expect_body:
                return None
            try:
                return parse_json(response.body)
            except (ValueError, RecursionError) as e:  # a body nested thousands deep exhausts json's recursion
                _log_failure(method, path, response, request_id, "success without a JSON body")
                raise AgentsFailed(f"{method} {path}: {status} without JSON") from e
        if status in refusals:
            raise AgentsRefused(status, _detail(response.body))
        if status == 429:
            raise AgentsRateLimited(_detail(response.body), _retry_after(response))
        if status == 401:
            logger.error(
                "agents service rejected this server's credentials (401) on %s %s [request %s]: "
                "check INTUNO_AGENTS_API_KEY",
                method,
                path,
                request_id,
            )
            raise AgentsCredentialsRejected(f"{method} {path}: 401")
        _log_failure(method, path, response, request_id, "unexpected status")
        raise AgentsFailed(f"{method} {path}: {status}")


def chat_reply(payload: Any) -> dict:
    """A chat's answer: an object with a message id and the reply's text (a `done` event carries the same)."""
    reply = _object(payload)
    if not isinstance(reply.get("message_id"), str | int) or not isinstance(reply.get("reply"), str):
        raise AgentsFailed("chat answer lacks message_id or reply")
    return reply


def _outbound_request_id() -> str:
    request_id = request_context.current_request_id()
    return uuid.uuid4().hex if request_id == "-" else request_id  # "-": outside a request (a shell, a command)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:32]} is out of range")
    return value


# One decoder for every call: json.loads with these options would make a new one each time (every relayed event).
_STRICT_JSON = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def parse_json(body: bytes | str) -> Any:
    """Strict JSON: NaN, Infinity and numbers out of a float's range are refused (they cannot be rendered).
    Bytes are decoded as json.loads decodes them (UTF-8, -16 or -32)."""
    text = body.decode(json.detect_encoding(body), "surrogatepass") if isinstance(body, bytes) else body
    return _STRICT_JSON.decode(text)


def _is_dropped_connection(error: requests.ConnectionError) -> bool:
    """True when the server closed a (pooled) connection under us, as opposed to refusing a new one."""
    cause = error.args[0] if error.args else None
    return isinstance(cause, ProtocolError) or isinstance(error.__context__, ProtocolError)


def _object(payload: Any) -> dict:
    if not isinstance(payload, dict):
        raise AgentsFailed(f"expected a JSON object, got {type(payload).__name__}")
    return payload


def _objects(payload: Any) -> list[dict]:
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        raise AgentsFailed("expected a JSON array of objects")
    return payload


def _detail(body: bytes) -> str | None:
    """Upstream's `detail` when its body is JSON carrying one (a string, or a list of messages)."""
    try:
        payload = parse_json(body)
    except (ValueError, RecursionError):
        return None
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, list):
        messages = [str(item.get("msg", "")) if isinstance(item, dict) else str(item) for item in detail]
        detail = "; ".join(m for m in messages if m)
    if not isinstance(detail, str) or not detail.strip():
        return None
    return detail[:DETAIL_MAX_CHARS]


def _retry_after(response: BoundedResponse) -> str | None:
    value = response.headers.get("Retry-After", "").strip()
    return value if _RETRY_AFTER.fullmatch(value) else None


def _log_failure(method: str, path: str, response: BoundedResponse, request_id: str, reason: str) -> None:
    body = response.body[:LOGGED_BODY_CHARS].decode("utf-8", errors="replace")
    logger.error(
        "agents service failed: %s on %s %s answered %s [request %s]; body: %r",
        reason,
        method,
        path,
        response.status,
        request_id,
        body,
    )


_client: AgentsClient | None = None
_client_lock = threading.Lock()


def agents_client() -> AgentsClient:
    """The process's one client, built on first use (after gunicorn forks, so no socket is shared)."""
    global _client
    client = _client
    if client is None:
        with _client_lock:
            if _client is None:
                _client = AgentsClient.from_settings()
            client = _client
    return client


@receiver(setting_changed)
def _rebuild_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    # Tests point the client at a double with override_settings; the next call builds a fresh one.
    global _client
    if setting.startswith("INTUNO_AGENTS_"):
        with _client_lock:
            if _client is not None:
                _client.close()
            _client = None
