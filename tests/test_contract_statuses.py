"""Every operation declares exactly the statuses it can answer, and each answer is what its declaration says.

PROVOKE holds, per operation id, one way to make wisdom answer each status. The tests check both directions:
the statuses in PROVOKE are exactly those openapi.yaml declares (a declared status nobody can provoke, or a
provokable one left undeclared, fails), and each is provoked for real (in-process wisdom, the agents double as a
subprocess behind it): the status comes back, its body validates against the declared schema, and the declared
headers are there. schemathesis (tests/test_fuzz.py) checks the other way round: whatever it makes wisdom answer
is declared. A new route adds its operation here with one provoker per declared status.
"""

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import jsonschema
import pytest
import yaml
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import OperationalError, connection
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from psycopg_pool import PoolTimeout
from rest_framework.test import APIClient

from accounts.services import api_key_create, tokens_for
from accounts.tests.factories import UserFactory
from accounts.throttles import LoginIpThrottle, PasswordResetIpThrottle
from invites.tests.factories import InviteFactory
from invites.throttles import InvitesIpThrottle
from tests.helpers.auth import bearer
from tests.helpers.constants import PASSWORD, SERVICE_KEY
from tests.helpers.processes import ROOT

SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())
OPERATIONS = {
    op["operationId"]: (method, path, op) for path, item in SCHEMA["paths"].items() for method, op in item.items()
}
EVENT_STREAM = "text/event-stream; charset=utf-8"
STREAMED = "x-streamed-responses"  # a streamed answer, declared apart from the typed ones (wisdom/openapi.py)
OTHER_OWNER = "0c8d1f5e-2b7a-4e3c-9f61-5a4b3c2d1e0f"
HANG_TIMEOUT_SECONDS = 0.5
NEW_PASSWORD = "a-new-and-unusual-passphrase"


@dataclass
class World:
    """The seeded callers, entities and invites, and one way to call any operation."""

    client: APIClient
    user: object
    staff: object
    invite: object
    revoked: object
    emailed: object
    api_key: object
    api_key_secret: str
    double: object
    settings: object
    monkeypatch: object
    entity: str = "ada"
    extra: dict = field(default_factory=dict)

    def call(
        self,
        operation_id: str,
        *,
        path: dict | None = None,
        query: dict | None = None,
        body=None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict | None = None,
        credentials: dict | None = None,
        **meta,
    ):
        method, template, operation = OPERATIONS[operation_id]
        default_id = {"revokeApiKey": self.api_key.id, "sendInvite": self.emailed.id}.get(operation_id, self.invite.id)
        values = {"name": self.entity, "id": str(default_id), "token": self.invite.token, **(path or {})}
        url = template.format(**values)
        if credentials is None:
            credentials = self.credentials_for(operation)
        if raw is None and body is None and operation.get("requestBody"):
            body = self.default_body(operation_id)
        data = raw if raw is not None else (None if body is None else _json(body))
        return self.client.generic(
            method.upper(),
            url + _query(query),
            data=data or "",
            content_type=content_type,
            headers={**credentials, **(headers or {})},
            **meta,
        )

    def default_body(self, operation_id: str):
        """A body the operation accepts."""
        if operation_id in ("refreshTokens", "logout"):
            return {"refresh_token": tokens_for(user=self.user)["refresh_token"]}
        if operation_id == "confirmPasswordReset":
            uid = urlsafe_base64_encode(force_bytes(self.user.pk))
            return {"uid": uid, "token": default_token_generator.make_token(self.user), "new_password": NEW_PASSWORD}
        return DEFAULT_BODIES.get(operation_id, {})

    def credentials_for(self, operation: dict) -> dict:
        if not operation.get("security"):
            return {}
        return bearer(self.staff) if "invites" in operation.get("tags", []) else bearer(self.user)


def _json(body) -> bytes:
    import json

    return json.dumps(body).encode()


def _query(query: dict | None) -> str:
    from urllib.parse import urlencode

    return f"?{urlencode(query)}" if query else ""


DEFAULT_BODIES = {
    "login": {"email": "alice@example.com", "password": PASSWORD},
    "changePassword": {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    "requestPasswordReset": {"email": "alice@example.com"},
    "updateMe": {"first_name": "Ally"},
    "createApiKey": {"name": "laptop"},
    "createEntity": {"name": "bea"},
    "updateEntity": {"description": "Reads with me."},
    "sendMessage": {"content": "hi"},
    "createInvite": {"expires_in_days": 7},
    "redeemInvite": {"password": PASSWORD, "first_name": "Nia", "email": "nia@example.com"},
    "deleteAccount": {"password": PASSWORD},
}


# --- provokers shared by many operations -------------------------------------------------------------------


def success(world: World, op: str):
    return world.call(op)


def malformed_credential_header(world: World, op: str):
    return world.call(op, credentials={"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": "not-a-user-id"})


def no_credentials(world: World, op: str):
    return world.call(op, credentials={})


def not_staff(world: World, op: str):
    return world.call(op, credentials=bearer(world.user))


def no_json_accepted(world: World, op: str):
    return world.call(op, headers={"Accept": "text/html"})


def chunked_body(world: World, op: str):
    return world.call(op, HTTP_TRANSFER_ENCODING="chunked")


def body_too_large(world: World, op: str):
    return world.call(op, raw=b" " * (world.settings.REQUEST_BODY_MAX_BYTES + 1))


def not_json(world: World, op: str):
    return world.call(op, raw=b"hello", content_type="text/plain")


def database_down(world: World, op: str):
    credentials = world.credentials_for(OPERATIONS[op][2])  # minted before the database goes away
    body = world.default_body(op) if OPERATIONS[op][2].get("requestBody") else None

    def refuse(execute, sql, params, many, context):
        # as Django raises psycopg's pool time-out: wrapped, the driver's error as the cause
        raise OperationalError("couldn't get a connection after 10.00 sec") from PoolTimeout(
            "couldn't get a connection after 10.00 sec"
        )

    with connection.execute_wrapper(refuse):
        return world.call(op, credentials=credentials, body=body)


def throttled(throttle) -> Callable:
    def provoke(world: World, op: str):
        cache.clear()
        world.monkeypatch.setattr(throttle, "rate", "1/min", raising=False)
        world.call(op)
        try:
            return world.call(op)
        finally:
            cache.clear()

    return provoke


def upstream(**switches) -> Callable:
    def provoke(world: World, op: str):
        world.double.switch(**switches)
        return world.call(op)

    return provoke


def upstream_hangs(world: World, op: str):
    world.settings.INTUNO_AGENTS_TIMEOUT_SECONDS = HANG_TIMEOUT_SECONDS
    world.settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = HANG_TIMEOUT_SECONDS
    world.double.switch(fault="hang")
    return world.call(op)


def another_users_entity(world: World, op: str):
    return world.call(op, path={"name": "theirs"})


def upstream_says_someone_else_owns_it(world: World, op: str):
    world.double.switch(extra_fields={"owner_user_id": OTHER_OWNER})
    return world.call(op)


def unknown_entity(world: World, op: str):
    return world.call(op, path={"name": "nobody-has-this"})


UPSTREAM_FAILS = upstream(fault="canned", fault_status=500)
UPSTREAM_RATE_LIMITS = upstream(
    fault="canned", fault_status=429, fault_body='{"detail": "Slow down."}', fault_headers={"Retry-After": "7"}
)

PERSON_SHARED = {400: malformed_credential_header, 401: no_credentials, 503: database_down}
SERVICE_SHARED = {**PERSON_SHARED, 403: not_staff, 406: no_json_accepted}
BODY_SHARED = {411: chunked_body, 413: body_too_large, 415: not_json}
UPSTREAM_SHARED = {429: UPSTREAM_RATE_LIMITS, 502: UPSTREAM_FAILS, 504: upstream_hangs}


# --- provokers of one operation ----------------------------------------------------------------------------


def entity_quota_reached(world: World, op: str):
    world.settings.PERSONAL_FREE_TIER_ENTITY_CAP = 1  # "ada" fills it
    return world.call(op)


def name_taken(world: World, op: str):
    return world.call(op, body={"name": "theirs"})


def display_name_upstream_refuses(world: World, op: str):
    return world.call(op, body={"display_name": "x" * 201, **({"name": "bea"} if op == "createEntity" else {})})


def paused_entity(world: World, op: str):
    world.call("pauseEntity")
    return world.call(op)


def chat_refused_by_upstream(world: World, op: str):
    world.double.switch(fault="canned", fault_status=422, fault_match="chat", fault_body='{"detail": "No."}')
    return world.call(op)


def unknown_cursor(world: World, op: str):
    return world.call(op, query={"before": "m999999999999"})


def message_quota_reached(world: World, op: str):
    world.settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 1
    cache.clear()
    world.call(op)
    return world.call(op)


def streamed(world: World, op: str):
    return world.call(op, headers={"Accept": "text/event-stream"})


def invite_filters_invalid(world: World, op: str):
    return world.call(op, query={"limit": "many"})


def unknown_invite(world: World, op: str):
    return world.call(op, path={"id": str(uuid.uuid4()), "token": "no-such-invite-token"})


def revoked_invite(world: World, op: str):
    return world.call(op, path={"token": world.revoked.token})


def wrong_password(world: World, op: str):
    return world.call(op, body={"email": world.user.email, "password": "wrong"})


def invalid_body(world: World, op: str):
    return world.call(op, body={})


def bad_refresh_token(world: World, op: str):
    return world.call(op, body={"refresh_token": "not-a-token"})


def email_taken(world: World, op: str):
    return world.call(op, body={"password": PASSWORD, "first_name": "Nia", "email": world.user.email})


def invite_expired_by_date(world: World, op: str):
    return world.call(op, body={"expires_at": "2001-01-01T00:00:00Z"})


def api_key_caller(world: World, op: str):
    return world.call(op, credentials={"X-API-Key": world.api_key_secret})


def wrong_current_password(world: World, op: str):
    return world.call(op, body={"current_password": "not-the-password", "new_password": NEW_PASSWORD})


def failed_logins_reached(world: World, op: str):
    world.settings.LOGIN_FAILURE_LIMIT = 1
    cache.clear()
    wrong_current_password(world, op)
    try:
        return world.call(op)
    finally:
        cache.clear()


def bad_reset_link(world: World, op: str):
    return world.call(op, body={"uid": "bm90LWEtdXNlcg", "token": "not-a-token", "new_password": NEW_PASSWORD})


def field_not_changeable(world: World, op: str):
    return world.call(op, body={"email": "mallory@example.com"})


def unknown_export(world: World, op: str):
    return world.call(op, path={"id": str(uuid.uuid4())})


def unknown_api_key(world: World, op: str):
    return world.call(op, path={"id": str(uuid.uuid4())})


def unsendable_invite(world: World, op: str):
    return world.call(op, path={"id": str(world.revoked.id)})


def sent_moments_ago(world: World, op: str):
    world.call(op)
    return world.call(op)


def wrong_password_to_delete(world: World, op: str):
    return world.call(op, body={"password": "not-the-password"})


def failed_deletions_reached(world: World, op: str):
    world.settings.LOGIN_FAILURE_LIMIT = 1
    cache.clear()
    wrong_password_to_delete(world, op)
    try:
        return world.call(op)
    finally:
        cache.clear()


def ready_export(world: World, op: str):
    from accounts.services.export import data_exports_run_due

    world.call("createExport")
    data_exports_run_due()
    [export] = world.call("listExports").json()
    return world.call(op, path={"id": export["id"]})


def stream_limit_reached(world: World, op: str):
    world.settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 0  # every place the plan allows is open
    return streamed(world, op)


def stream_capacity_reached(world: World, op: str):
    world.settings.PERSONAL_STREAM_CAPACITY = 1
    world.double.switch(stream_step=True)  # the first stream stays open, holding this worker's only place
    held = streamed(world, op)
    try:
        return streamed(world, op)
    finally:
        held.close()


PERSONAL = {**PERSON_SHARED, **UPSTREAM_SHARED}
PROVOKE: dict[str, dict[int, Callable]] = {
    "login": {
        200: success,
        400: invalid_body,
        401: wrong_password,
        406: no_json_accepted,
        **BODY_SHARED,
        429: throttled(LoginIpThrottle),
        503: database_down,
    },
    "refreshTokens": {
        200: success,
        400: invalid_body,
        401: bad_refresh_token,
        406: no_json_accepted,
        **BODY_SHARED,
        503: database_down,
    },
    "logout": {
        204: success,
        400: invalid_body,
        401: bad_refresh_token,
        406: no_json_accepted,
        **BODY_SHARED,
        503: database_down,
    },
    "logoutAll": {204: success, **PERSON_SHARED, 406: no_json_accepted},
    "changePassword": {
        200: success,
        **PERSON_SHARED,
        400: wrong_current_password,
        403: api_key_caller,
        406: no_json_accepted,
        **BODY_SHARED,
        429: failed_logins_reached,
    },
    "requestPasswordReset": {
        202: success,
        400: invalid_body,
        406: no_json_accepted,
        **BODY_SHARED,
        429: throttled(PasswordResetIpThrottle),
        503: database_down,
    },
    "confirmPasswordReset": {
        200: success,
        400: bad_reset_link,
        406: no_json_accepted,
        **BODY_SHARED,
        429: throttled(PasswordResetIpThrottle),
        503: database_down,
    },
    "getMe": {200: success, **PERSON_SHARED, 406: no_json_accepted},
    "updateMe": {200: success, **PERSON_SHARED, 400: field_not_changeable, 406: no_json_accepted, **BODY_SHARED},
    "listApiKeys": {200: success, **PERSON_SHARED, 406: no_json_accepted},
    "createApiKey": {
        201: success,
        **PERSON_SHARED,
        400: invalid_body,
        403: api_key_caller,
        406: no_json_accepted,
        **BODY_SHARED,
    },
    "revokeApiKey": {204: success, **PERSON_SHARED, 404: unknown_api_key, 406: no_json_accepted},
    "deleteAccount": {
        202: success,
        **PERSON_SHARED,
        400: wrong_password_to_delete,
        403: api_key_caller,
        406: no_json_accepted,
        **BODY_SHARED,
        429: failed_deletions_reached,
    },
    "createExport": {202: success, **PERSON_SHARED, 403: api_key_caller, 406: no_json_accepted, 429: sent_moments_ago},
    "listExports": {200: success, **PERSON_SHARED, 403: api_key_caller, 406: no_json_accepted},
    "downloadExport": {
        200: ready_export,
        **PERSON_SHARED,
        403: api_key_caller,
        404: unknown_export,
        406: no_json_accepted,
    },
    "listInvites": {200: success, **SERVICE_SHARED, 400: invite_filters_invalid},
    "createInvite": {201: success, **SERVICE_SHARED, **BODY_SHARED, 400: invite_expired_by_date},
    "getInvite": {200: success, **SERVICE_SHARED, 404: unknown_invite},
    "revokeInvite": {204: success, **SERVICE_SHARED, 404: unknown_invite},
    "sendInvite": {
        202: success,
        **SERVICE_SHARED,
        404: unknown_invite,
        409: unsendable_invite,
        429: sent_moments_ago,
    },
    "previewInvite": {
        200: success,
        404: unknown_invite,
        406: no_json_accepted,
        410: revoked_invite,
        429: throttled(InvitesIpThrottle),
        503: database_down,
    },
    "redeemInvite": {
        201: success,
        400: invalid_body,
        404: unknown_invite,
        406: no_json_accepted,
        409: email_taken,
        410: revoked_invite,
        **BODY_SHARED,
        429: throttled(InvitesIpThrottle),
        503: database_down,
    },
    "listEntities": {200: success, **PERSONAL},
    "createEntity": {
        201: success,
        **PERSONAL,
        **BODY_SHARED,
        403: upstream_says_someone_else_owns_it,
        409: name_taken,
        422: display_name_upstream_refuses,
        429: entity_quota_reached,
    },
    "getEntity": {200: success, **PERSONAL, 403: another_users_entity, 404: unknown_entity},
    "updateEntity": {
        200: success,
        **PERSONAL,
        **BODY_SHARED,
        403: another_users_entity,
        404: unknown_entity,
        422: display_name_upstream_refuses,
    },
    "deleteEntity": {204: success, **PERSONAL, 403: another_users_entity, 404: unknown_entity},
    "pauseEntity": {200: success, **PERSONAL, 403: another_users_entity, 404: unknown_entity},
    "resumeEntity": {200: success, **PERSONAL, 403: another_users_entity, 404: unknown_entity},
    "listMessages": {
        200: success,
        **PERSONAL,
        403: another_users_entity,
        404: unknown_entity,
        422: unknown_cursor,
    },
    "sendMessage": {
        200: streamed,
        201: success,
        **PERSONAL,
        **BODY_SHARED,
        403: another_users_entity,
        404: unknown_entity,
        409: paused_entity,
        422: chat_refused_by_upstream,
        429: message_quota_reached,
    },
    "getUsage": {200: success, **PERSONAL},
}
CASES = sorted((op, status) for op, statuses in PROVOKE.items() for status in statuses)


@pytest.fixture
def world(db, agents_double, settings, monkeypatch):
    cache.clear()
    settings.PERSONAL_FREE_TIER_ENTITY_CAP = 10
    user = UserFactory(email="alice@example.com", first_name="Alice")
    staff = UserFactory(email="staff@example.com", first_name="Stella", is_staff=True)
    agents_double.seed_entity(name="ada", owner_id=str(user.pk), display_name="Ada")
    agents_double.seed_entity(name="theirs", owner_id=OTHER_OWNER)
    api_key, api_key_secret = api_key_create(user=user, name="laptop")
    world = World(
        client=APIClient(),
        user=user,
        staff=staff,
        invite=InviteFactory(inviter=staff),
        revoked=InviteFactory(inviter=staff, revoked=True),
        emailed=InviteFactory(inviter=staff, email="newcomer@example.com"),
        api_key=api_key,
        api_key_secret=api_key_secret,
        double=agents_double,
        settings=settings,
        monkeypatch=monkeypatch,
    )
    world.call("sendMessage")  # a conversation to list
    yield world
    cache.clear()


# --- the checks ---------------------------------------------------------------------------------------------


def test_every_operation_has_a_provoker_for_exactly_its_declared_statuses():
    declared = {op: sorted(int(s) for s in _declared(operation)) for op, (_, _, operation) in OPERATIONS.items()}
    provoked = {op: sorted(statuses) for op, statuses in PROVOKE.items()}

    assert provoked == declared


@pytest.mark.parametrize(("op", "status"), CASES, ids=[f"{op}-{status}" for op, status in CASES])
def test_each_declared_status_is_answered_as_declared(world, op, status):
    response = PROVOKE[op][status](world, op)

    _assert_answered_as_declared(response, op, status)


def _assert_answered_as_declared(response, op: str, status: int) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == status, body[:500]
    declared = _declared(OPERATIONS[op][2])[str(status)]
    for header, spec in declared.get("headers", {}).items():
        if header == "X-Request-ID" or (header == "Retry-After" and status == 503):
            assert response.has_header(header), f"{header} missing"
    content = declared.get("content", {})
    if not content:
        assert body == b""
        return
    media_type = response["Content-Type"]
    assert media_type in content, f"answered {media_type}, declared {sorted(content)}"
    if media_type == "application/json":
        jsonschema.validate(response.json(), _json_schema(content[media_type]["schema"]))
    if status == 429 and response.json().get("code") != "entity_quota_exceeded":
        assert response.has_header("Retry-After"), "Retry-After missing"


# --- Idempotency-Key: more answers of statuses declared above, each provoked and checked the same way -----------


def key_in_progress(world: World, op: str):
    from personal import idempotency

    body = world.default_body(op)
    method, template, _ = OPERATIONS[op]
    path = template.format(name=world.entity)
    fingerprint = idempotency.fingerprint(method=method.upper(), path=path, body=body)
    idempotency.idempotency_claim(user_id=str(world.user.pk), key="k", fingerprint=fingerprint, lease_seconds=30)
    return world.call(op, body=body, headers={"Idempotency-Key": "k"})


def key_reused(world: World, op: str):
    world.call(op, headers={"Idempotency-Key": "k"})
    return world.call(op, body={**world.default_body(op), **_another(op)}, headers={"Idempotency-Key": "k"})


def _another(op: str) -> dict:
    return {"name": "cleo"} if op == "createEntity" else {"content": "something else"}


def replayed(world: World, op: str):
    world.call(op, headers={"Idempotency-Key": "k"})
    return world.call(op, headers={"Idempotency-Key": "k"})


def bad_key(world: World, op: str):
    return world.call(op, headers={"Idempotency-Key": "k" * 256})


IDEMPOTENCY_ANSWERS = [
    (op, status, provoke, code)
    for op in ("createEntity", "sendMessage")
    for status, provoke, code in [
        (201, replayed, None),
        (400, bad_key, None),
        (409, key_in_progress, "idempotency_in_progress"),
        (422, key_reused, "idempotency_key_reused"),
    ]
]


@pytest.mark.parametrize(
    ("op", "status", "provoke", "code"),
    IDEMPOTENCY_ANSWERS,
    ids=[f"{op}-{status}-{provoke.__name__}" for op, status, provoke, _ in IDEMPOTENCY_ANSWERS],
)
def test_each_idempotency_answer_is_answered_as_declared(world, op, status, provoke, code):
    response = provoke(world, op)

    _assert_answered_as_declared(response, op, status)
    if code is not None:
        assert response.json()["code"] == code
    if status == 409:
        assert response.has_header("Retry-After")
    if status == 201:
        assert response["Idempotency-Replayed"] == "true"
        assert "Idempotency-Replayed" in OPERATIONS[op][2]["responses"]["201"]["headers"]


# More ways to a declared status, each answered as declared too (PROVOKE holds one per status).
ALSO = [
    ("sendMessage", 429, stream_limit_reached),
    ("sendMessage", 503, stream_capacity_reached),
]


@pytest.mark.parametrize(
    ("op", "status", "provoke"), ALSO, ids=[f"{op}-{status}-{provoke.__name__}" for op, status, provoke in ALSO]
)
def test_other_ways_to_a_declared_status_are_answered_as_declared(world, op, status, provoke):
    world.monkeypatch.setitem(PROVOKE[op], status, provoke)

    test_each_declared_status_is_answered_as_declared(world, op, status)


def _declared(operation: dict) -> dict:
    return {**operation["responses"], **operation.get(STREAMED, {})}


def _json_schema(node):
    """The OpenAPI 3.0 schema as JSON Schema: references inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        return _json_schema(copy.deepcopy(SCHEMA["components"]["schemas"][name]))
    converted = {key: _json_schema(value) for key, value in node.items() if key not in ("discriminator", "example")}
    if converted.pop("nullable", False):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted
