"""Idempotency-Key on the sends that cost something (creating an entity, a message answered whole), as Stripe
and the IETF draft (draft-ietf-httpapi-idempotency-key-header) describe it.

Per person and key, one record in the shared cache (Redis in production), so every replica honours it:
- claimed atomically (SET NX) while the first request runs, for a lease longer than the request's whole
  upstream budget: a second request meanwhile is 409 `idempotency_in_progress`, and a worker that dies frees
  the key when the lease ends;
- then the answer that completed (2xx, or 4xx but 400, 409-in-progress and 429) replaces it for KEPT_SECONDS:
  the same request again gets that answer back (status, body, headers, `Idempotency-Replayed: true`) without
  upstream being asked or any limit or quota being charged again; another body or route is 422
  `idempotency_key_reused`. Any other answer (5xx, 504, 429, a 400 to fix) frees the key for a real retry.
A cache that is down fails open, as the message limits do: the request is served without idempotency (the
outage is logged by wisdom/cache.py, once).
"""

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework import serializers
from rest_framework.response import Response

from personal.errors import IdempotencyInProgress, IdempotencyKeyReused
from wisdom.cache import cache_block
from wisdom.errors import NON_FIELD_ERRORS

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
KEY_MAX_LENGTH = 255
KEY_PATTERN = re.compile(rf"\A[\x20-\x7e]{{1,{KEY_MAX_LENGTH}}}\Z")  # \Z: $ would pass a final newline
INVALID_KEY = f"{HEADER} must be 1 to {KEY_MAX_LENGTH} printable ASCII characters."
KEPT_SECONDS = 24 * 60 * 60
LEASE_MARGIN_SECONDS = 10  # past the upstream budget: the database, the answer written; then the worker is gone
RETRY_AFTER_SECONDS = 1
# Answered per request, never part of the stored answer.
NOT_STORED_HEADERS = frozenset({"content-type", "content-length", "set-cookie", "vary", "allow", "x-request-id"})
IN_FLIGHT, DONE = "in_flight", "done"


def create_lease_seconds() -> float:
    """An entity create asks upstream twice (the count, then the create), each within its deadline."""
    return 2 * settings.INTUNO_AGENTS_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS


def send_lease_seconds() -> float:
    return settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS


def is_stored(status_code: int) -> bool:
    """An answer that completed: a retry gets it again. A 400 is not (the body is fixed and sent again, as Stripe
    does), nor a 429 or a 5xx (the same request may succeed later)."""
    return 200 <= status_code < 300 or (400 < status_code < 500 and status_code != 429)


def key_from(meta: dict) -> str | None:
    """The request's Idempotency-Key, None without one; 400 when it is empty, too long or not printable ASCII."""
    key = meta.get("HTTP_IDEMPOTENCY_KEY")
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise serializers.ValidationError({NON_FIELD_ERRORS: [INVALID_KEY]})
    return key


def fingerprint(*, method: str, path: str, body) -> str:
    """The request the key was first used for: its route and its body, whatever the JSON's spacing or key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """This request holds the key until it answers (or its lease ends)."""

    record_key: str
    token: str
    fingerprint: str


def _record_key(*, user_id: str, key: str) -> str:
    # hashed: a key may hold any printable character and up to 255 of them
    return f"personal:idempotency:{user_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def idempotency_claim(*, user_id: str, key: str, fingerprint: str, lease_seconds: float) -> Claim | Response | None:
    """The key for this request (a Claim), the answer stored for it (a Response to replay), or None when the cache
    is down (serve without idempotency). 409 while another request holds it; 422 when it was used for another."""
    record_key = _record_key(user_id=user_id, key=key)
    token = uuid.uuid4().hex
    in_flight = {"state": IN_FLIGHT, "fingerprint": fingerprint, "token": token}
    found = None
    with cache_block("idempotency keys") as available:
        for _ in range(2) if available else ():
            if cache.add(record_key, in_flight, timeout=lease_seconds):  # atomic: SET NX in Redis
                return Claim(record_key=record_key, token=token, fingerprint=fingerprint)
            found = cache.get(record_key)
            if found is not None:
                break  # else its lease ended between the two calls: claim it again
    if not available or found is None:
        return None
    if found.get("fingerprint") != fingerprint:
        raise IdempotencyKeyReused()
    if found.get("state") != DONE:
        raise IdempotencyInProgress(retry_after=RETRY_AFTER_SECONDS)
    return Response(found["body"], status=found["status"], headers={**found["headers"], REPLAYED_HEADER: "true"})


def idempotency_finish(*, claim: Claim, response: Response) -> None:
    """Keeps the answer for KEPT_SECONDS when it completed; otherwise frees the key for a real retry."""
    record = None
    if is_stored(response.status_code):
        headers = {name: value for name, value in response.items() if name.lower() not in NOT_STORED_HEADERS}
        record = {
            "state": DONE,
            "fingerprint": claim.fingerprint,
            "status": response.status_code,
            "body": response.data,
            "headers": headers,
        }
    with cache_block("idempotency keys") as available:
        if available and _still_held(claim):
            if record is None:
                cache.delete(claim.record_key)
            else:
                cache.set(claim.record_key, record, timeout=KEPT_SECONDS)


def idempotency_release(*, claim: Claim) -> None:
    """The request failed without an answer to keep: a retry is served for real."""
    with cache_block("idempotency keys") as available:
        if available and _still_held(claim):
            cache.delete(claim.record_key)


def _still_held(claim: Claim) -> bool:
    # a request that outlived its lease must not overwrite the next holder's record
    found = cache.get(claim.record_key)
    return isinstance(found, dict) and found.get("token") == claim.token


def idempotent(*, lease_seconds: Callable[[], float], unless: Callable | None = None) -> Callable:
    """A view method's hook: with an Idempotency-Key (and not `unless(request)`), its answer is kept and replayed.

    The method's errors are rendered here (the view's own handler) so that a completed 4xx is kept as well."""

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(view, request, *args, **kwargs):
            key = None if unless is not None and unless(request) else key_from(request.META)
            if key is None:
                return method(view, request, *args, **kwargs)
            claim = idempotency_claim(
                user_id=str(request.user.pk),
                key=key,
                fingerprint=fingerprint(method=request.method, path=request.path, body=request.data),
                lease_seconds=lease_seconds(),
            )
            if not isinstance(claim, Claim):
                return claim if claim is not None else method(view, request, *args, **kwargs)
            try:
                try:
                    response = method(view, request, *args, **kwargs)
                except Exception as e:
                    response = view.handle_exception(e)  # re-raises what is no APIException: a 500
            except BaseException:
                idempotency_release(claim=claim)
                raise
            idempotency_finish(claim=claim, response=response)
            return response

        return wrapper

    return decorate
