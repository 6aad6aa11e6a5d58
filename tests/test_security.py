"""Hostile input and credentials against a live wisdom (gunicorn) with the agents double behind it.

Every refusal asserts its exact status and that nothing changed: what the double holds and received,
and the users, tokens, invites and redemptions in the database.
"""

import http.client
import json
import secrets
import socket
from datetime import timedelta
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import INVALID_SERVICE_KEY
from accounts.models import User
from accounts.permissions import OnBehalfOfRequired
from accounts.services import tokens_for
from invites.errors import INVITE_NOT_FOUND
from invites.models import Invite, InviteRedemption
from invites.tests.factories import InviteFactory
from personal.views import ENCODED_SLASH
from tests.helpers.auth import bearer
from tests.helpers.bodies import bad_request
from tests.helpers.constants import AGENTS_API_KEY, PASSWORD, ROTATED_SERVICE_KEY, SERVICE_KEY, UPSTREAM_HEADERS
from tests.helpers.live import wisdom_server
from wisdom.exceptions import NESTED_TOO_DEEPLY

pytestmark = [pytest.mark.live, pytest.mark.security, pytest.mark.django_db(transaction=True)]

BODY_LIMIT = 1024 * 1024
TOO_LARGE = {"detail": f"Request body is too large; the limit is {BODY_LIMIT} bytes."}
MALFORMED = b'{"name":'
PARSE_ERROR = bad_request("JSON parse error - Expecting value: line 1 column 9 (char 8)")
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
BAD_TOKEN = {"detail": "Given token not valid for any token type"}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_ACTIVE_USER = {"detail": "X-On-Behalf-Of names no active user."}
CHALLENGE = 'Bearer realm="api"'

# Every route with a name in its path: method, suffix, a body that would be valid.
NAME_ROUTES = [
    ("GET", "", None),
    ("PATCH", "", {"description": "x"}),
    ("DELETE", "", None),
    ("POST", "/pause", None),
    ("POST", "/resume", None),
    ("GET", "/messages", None),
    ("POST", "/messages", {"content": "hi"}),
]
DOTS = "Entity name must not be '.' or '..'."
SEPARATOR = "Entity name must not contain '/' or '\\'."
CONTROL = "Entity name must not contain control characters."
TOO_LONG = "Entity name must be at most 255 characters."


# --- the world every test starts from, and the proof that nothing in it changed ----------------------


@pytest.fixture
def world(wisdom_agents_live, agents_double, make_live_user):
    """Alice (pro, room to create) owns "ada" upstream; bob is another user; an open invite with two uses."""
    alice = make_live_user(email="alice.security@example.com", plan="pro")
    bob = make_live_user(email="bob.security@example.com")
    invite = InviteFactory(max_uses=2, email="")
    assert agents_double.seed_entity(name="ada", owner_id=str(alice.pk)).status_code == 201
    agents_double.clear_received()
    return {"url": wisdom_agents_live.url, "double": agents_double, "alice": alice, "bob": bob, "invite": invite}


def _snapshot(double) -> dict:
    return {
        "entities": sorted(json.dumps(entity, sort_keys=True) for entity in double.entities()),
        "users": sorted(User.objects.values_list("id", "email", "is_active", "is_staff", "password")),
        "tokens": OutstandingToken.objects.count(),
        "invites": sorted(Invite.objects.values_list("id", "use_count", "revoked_at", "expires_at")),
        "redemptions": InviteRedemption.objects.count(),
    }


def _assert_nothing_changed(world: dict, before: dict) -> None:
    assert world["double"].received() == []  # nothing reached the agents service
    assert _snapshot(world["double"]) == before


def _raw(url: str, method: str, path: str, headers: dict, body: bytes | None = None) -> tuple[int, dict, dict]:
    """http.client sends the path byte for byte; requests would normalise dot segments and %2E away."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null"), dict(response.getheaders())
    finally:
        connection.close()


def _declared_oversize(url: str, path: str, headers: dict) -> tuple[int, dict]:
    """A POST declaring one byte over the limit, whose body never follows: wisdom refuses it before reading and
    closes the connection, so a client still sending a body would meet a closed socket (a race, not a result)."""
    parts = urlsplit(url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.hostname}:{parts.port}", f"Content-Length: {BODY_LIMIT + 1}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def _name_error(messages: str | tuple[str, ...]) -> dict:
    messages = (messages,) if isinstance(messages, str) else messages
    return {"detail": f"name: {messages[0]}", "errors": {"name": list(messages)}}


# --- entity names that try to leave their path segment ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..", DOTS),
        (".", DOTS),
        ("%2e%2e", DOTS),
        ("%2E%2E", DOTS),
        ("%2e", DOTS),
        (".%2E", DOTS),
        ("a%2Fb", ENCODED_SLASH),
        ("a%2fb", ENCODED_SLASH),
        ("..%2F..%2Fadmin", ENCODED_SLASH),
        ("%2e%2e%2f%2e%2e", ENCODED_SLASH),
        ("a%5Cb", SEPARATOR),
        ("..%5C..", SEPARATOR),
        ("a\\b", SEPARATOR),
        ("..\\..\\admin", SEPARATOR),
        ("a%00b", CONTROL),
        ("a%0Ab", CONTROL),
        ("a%0D%0AX-User-Id:%20mallory", CONTROL),
        ("a%09b", CONTROL),
        ("a%1Bb", CONTROL),
        ("a%7Fb", CONTROL),
        ("a%C2%85b", CONTROL),  # U+0085, a C1 control character
        ("a" * 256, TOO_LONG),
        ("%C3%A9" * 256, TOO_LONG),  # 256 characters, 512 bytes
        ("b" * 1000, TOO_LONG),
    ],
)
def test_a_name_leaving_its_path_segment_is_400_on_every_name_route_and_never_sent(world, name, message):
    headers = {**bearer(world["alice"]), "Content-Type": "application/json"}
    before = _snapshot(world["double"])

    answers = []
    for method, suffix, body in NAME_ROUTES:
        path = f"/personal/entities/{name}{suffix}"
        status, payload, _ = _raw(world["url"], method, path, headers, json.dumps(body).encode() if body else None)
        answers.append((method, suffix, status, payload))

    assert answers == [(method, suffix, 400, _name_error(message)) for method, suffix, _ in NAME_ROUTES]
    _assert_nothing_changed(world, before)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("..", DOTS),
        (".", DOTS),
        ("a/b", SEPARATOR),
        ("../../admin", SEPARATOR),
        ("a\\b", SEPARATOR),
        ("a\x00b", (CONTROL, "Null characters are not allowed.")),  # DRF's CharField adds its own
        ("a\r\nX-User-Id: mallory", CONTROL),
        ("a\x7fb", CONTROL),
        ("a" * 256, TOO_LONG),
        ("", "This field may not be blank."),
    ],
)
def test_creating_an_entity_with_a_name_leaving_its_path_segment_is_400_and_never_sent(world, name, message):
    headers = bearer(world["alice"])
    before = _snapshot(world["double"])

    response = requests.post(f"{world['url']}/personal/entities", json={"name": name}, headers=headers, timeout=10)

    assert (response.status_code, response.json()) == (400, _name_error(message))
    _assert_nothing_changed(world, before)


# --- what the client sends is never forwarded -----------------------------------------------------------


def test_client_supplied_identity_keys_and_cookies_are_never_forwarded_upstream(world):
    alice, bob, double = world["alice"], world["bob"], world["double"]
    hostile = {
        "X-User-Id": str(bob.pk),
        "X-API-Key": "client-supplied-agents-key",
        "Cookie": "sessionid=client-cookie; csrftoken=client-csrf",
        "X-Forwarded-For": "198.51.100.9",
        "X-Original-URL": "/entities/bobs",
    }
    as_jwt = {**bearer(alice), **hostile}
    # a service acting for alice, with bob's bearer token too: the key decides alone
    as_service = {**hostile, "X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(alice.pk), **_auth_only(bearer(bob))}
    base = f"{world['url']}/personal/entities"

    statuses = []
    for headers in (as_jwt, as_service):
        statuses += [
            requests.get(base, headers=headers, timeout=10).status_code,
            requests.get(f"{base}/ada", headers=headers, timeout=10).status_code,
            requests.patch(f"{base}/ada", json={"description": "d"}, headers=headers, timeout=10).status_code,
            requests.post(f"{base}/ada/messages", json={"content": "hi"}, headers=headers, timeout=10).status_code,
        ]
    statuses.append(requests.post(base, json={"name": "bea"}, headers=as_jwt, timeout=10).status_code)

    assert statuses == [200, 200, 200, 201] * 2 + [201]
    received = double.received()
    assert len(received) == 10  # the create counts alice's entities first
    for request in received:
        headers = {key.lower(): value for key, value in request["headers"].items()}
        assert set(headers) <= UPSTREAM_HEADERS, request["path"]
        assert (headers["x-api-key"], headers["x-user-id"]) == (AGENTS_API_KEY, str(alice.pk))
    dumped = json.dumps(received)
    for leaked in ("client-supplied-agents-key", "client-cookie", "client-csrf", SERVICE_KEY, str(bob.pk)):
        assert leaked not in dumped
    assert sorted((e["name"], e["owner_user_id"]) for e in double.entities()) == [
        ("ada", str(alice.pk)),
        ("bea", str(alice.pk)),
    ]


def _auth_only(headers: dict) -> dict:
    return {"Authorization": headers["Authorization"]}


# --- tokens that must not authenticate ------------------------------------------------------------------


def _forged_tokens(alice, carol, dave) -> dict[str, tuple[str, dict]]:
    """Bearer token variants, each with the exact 401 body it must get."""
    payload = dict(AccessToken.for_user(alice).payload)
    real = tokens_for(user=alice)
    header, claims, signature = real["access_token"].split(".")
    expired = AccessToken.for_user(alice)
    expired.set_exp(from_time=timezone.now() - timedelta(hours=2), lifetime=timedelta(minutes=1))
    as_staff = jwt.encode({**payload, "user_id": str(alice.pk), "is_staff": True}, key=None, algorithm="none")
    return {
        "alg_none": (jwt.encode(payload, key=None, algorithm="none"), BAD_TOKEN),
        "alg_none_claiming_staff": (as_staff, BAD_TOKEN),
        "tampered_signature": (f"{header}.{claims}.{signature[:-6]}AAAAAA", BAD_TOKEN),
        "tampered_claims": (f"{header}.{claims[:-4]}AAAA.{signature}", BAD_TOKEN),
        "signed_with_another_key": (jwt.encode(payload, key="k" * 64, algorithm="HS256"), BAD_TOKEN),
        "expired": (str(expired), BAD_TOKEN),
        "refresh_used_as_access": (real["refresh_token"], BAD_TOKEN),
        "deactivated_user": (tokens_for(user=carol)["access_token"], {"detail": "User is inactive"}),
        "deleted_user": (tokens_for(user=dave)["access_token"], {"detail": "User not found"}),
        "garbage": ("not-a-jwt", BAD_TOKEN),
    }


TOKEN_CASES = [
    "alg_none",
    "alg_none_claiming_staff",
    "tampered_signature",
    "tampered_claims",
    "signed_with_another_key",
    "expired",
    "refresh_used_as_access",
    "deactivated_user",
    "deleted_user",
    "garbage",
]


@pytest.mark.parametrize("case", TOKEN_CASES)
def test_a_token_that_must_not_authenticate_is_401_everywhere_and_changes_nothing(world, make_live_user, case):
    carol = make_live_user(email="carol.security@example.com")
    dave = make_live_user(email="dave.security@example.com")
    token, expected = _forged_tokens(world["alice"], carol, dave)[case]
    carol.is_active = False
    carol.save(update_fields=["is_active"])
    dave.delete()
    headers = {"Authorization": f"Bearer {token}"}
    url, ada = world["url"], f"{world['url']}/personal/entities/ada"
    before = _snapshot(world["double"])

    responses = [
        requests.get(f"{url}/auth/me", headers=headers, timeout=10),
        requests.get(f"{url}/personal/entities", headers=headers, timeout=10),
        requests.post(f"{url}/personal/entities", json={"name": "mallory"}, headers=headers, timeout=10),
        requests.post(f"{ada}/messages", json={"content": "hi"}, headers=headers, timeout=10),
        requests.delete(ada, headers=headers, timeout=10),
        requests.post(f"{url}/invites", json={"note": "mine"}, headers=headers, timeout=10),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(401, expected)] * len(responses)
    assert all(r.headers["WWW-Authenticate"] == CHALLENGE for r in responses)
    _assert_nothing_changed(world, before)


# --- the service key and X-On-Behalf-Of --------------------------------------------------------------


def _service_cases(alice, carol) -> dict[str, tuple[dict, int, dict]]:
    """Headers, and the exact status and body they must get."""
    on_behalf = str(alice.pk)
    return {
        "wrong_key": ({"X-Service-Key": "test-service-key-3", "X-On-Behalf-Of": on_behalf}, 401, INVALID_SERVICE_KEY),
        "empty_key": ({"X-Service-Key": "", "X-On-Behalf-Of": on_behalf}, 401, INVALID_SERVICE_KEY),
        "a_key_prefix": ({"X-Service-Key": SERVICE_KEY[:-1], "X-On-Behalf-Of": on_behalf}, 401, INVALID_SERVICE_KEY),
        "both_keys_joined": (
            {"X-Service-Key": f"{SERVICE_KEY},{ROTATED_SERVICE_KEY}", "X-On-Behalf-Of": on_behalf},
            401,
            INVALID_SERVICE_KEY,
        ),
        "wrong_key_with_a_valid_bearer": (
            {"X-Service-Key": "nope", "X-On-Behalf-Of": on_behalf, **bearer(alice)},
            401,
            INVALID_SERVICE_KEY,
        ),
        "on_behalf_of_not_a_uuid": (
            {"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": "alice@example.com"},
            400,
            "X-On-Behalf-Of must be a user id (a UUID).",
        ),
        "on_behalf_of_empty": (
            {"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": ""},
            400,
            "X-On-Behalf-Of must be a user id (a UUID).",
        ),
        "on_behalf_of_unknown": (
            {"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": "00000000-0000-4000-8000-000000000000"},
            401,
            NO_ACTIVE_USER["detail"],
        ),
        "on_behalf_of_deactivated": (
            {"X-Service-Key": ROTATED_SERVICE_KEY, "X-On-Behalf-Of": str(carol.pk)},
            401,
            NO_ACTIVE_USER["detail"],
        ),
        "on_behalf_of_without_a_key": ({"X-On-Behalf-Of": on_behalf}, 401, NOT_AUTHENTICATED["detail"]),
        "a_key_without_on_behalf_of": ({"X-Service-Key": SERVICE_KEY}, 400, OnBehalfOfRequired.default_detail),
    }


SERVICE_CASES = [
    "wrong_key",
    "empty_key",
    "a_key_prefix",
    "both_keys_joined",
    "wrong_key_with_a_valid_bearer",
    "on_behalf_of_not_a_uuid",
    "on_behalf_of_empty",
    "on_behalf_of_unknown",
    "on_behalf_of_deactivated",
    "on_behalf_of_without_a_key",
    "a_key_without_on_behalf_of",
]


@pytest.mark.parametrize("case", SERVICE_CASES)
def test_a_refused_service_call_gets_its_exact_status_and_changes_nothing(world, make_live_user, case):
    carol = make_live_user(email="carol.security@example.com", is_active=False)
    headers, status, detail = _service_cases(world["alice"], carol)[case]
    url, ada = world["url"], f"{world['url']}/personal/entities/ada"
    before = _snapshot(world["double"])

    responses = [
        requests.get(f"{url}/auth/me", headers=headers, timeout=10),
        requests.get(f"{url}/personal/entities", headers=headers, timeout=10),
        requests.post(f"{url}/personal/entities", json={"name": "mallory"}, headers=headers, timeout=10),
        requests.post(f"{ada}/messages", json={"content": "hi"}, headers=headers, timeout=10),
        requests.delete(ada, headers=headers, timeout=10),
    ]

    body = bad_request(detail) if status == 400 else {"detail": detail}
    assert [(r.status_code, r.json()) for r in responses] == [(status, body)] * len(responses)
    _assert_nothing_changed(world, before)


def test_both_service_keys_work_while_one_is_rotated_out(world):
    alice, double = world["alice"], world["double"]
    url = world["url"]

    for key in (SERVICE_KEY, ROTATED_SERVICE_KEY):
        delegated = {"X-Service-Key": key, "X-On-Behalf-Of": str(alice.pk)}
        me = requests.get(f"{url}/auth/me", headers=delegated, timeout=10)
        listed = requests.get(f"{url}/personal/entities", headers=delegated, timeout=10)
        invites = requests.get(f"{url}/invites", headers={"X-Service-Key": key}, timeout=10)

        assert (me.status_code, me.json()["id"]) == (200, str(alice.pk))
        assert (listed.status_code, [e["name"] for e in listed.json()]) == (200, ["ada"])
        assert (invites.status_code, invites.json()["count"]) == (200, 1)

    assert [r["headers"]["X-User-Id"] for r in double.received()] == [str(alice.pk)] * 2


# --- the invite admin API ---------------------------------------------------------------------------


def test_the_invite_admin_api_is_403_for_people_who_are_not_staff_and_creates_nothing(world):
    alice, invite = world["alice"], world["invite"]
    callers = {"jwt": bearer(alice), "delegated": {"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(alice.pk)}}
    before = _snapshot(world["double"])

    for headers in callers.values():
        answers = _invite_admin_calls(world["url"], headers, invite)
        assert answers == [(403, FORBIDDEN)] * 4
    _assert_nothing_changed(world, before)


def test_the_invite_admin_api_is_401_for_anonymous_callers_and_creates_nothing(world):
    before = _snapshot(world["double"])

    answers = _invite_admin_calls(world["url"], {}, world["invite"])

    assert answers == [(401, NOT_AUTHENTICATED)] * 4
    _assert_nothing_changed(world, before)


def _invite_admin_calls(url: str, headers: dict, invite) -> list[tuple[int, dict]]:
    responses = [
        requests.get(f"{url}/invites", headers=headers, timeout=10),
        requests.post(f"{url}/invites", json={"note": "mine", "max_uses": 100}, headers=headers, timeout=10),
        requests.get(f"{url}/invites/{invite.pk}", headers=headers, timeout=10),
        requests.delete(f"{url}/invites/{invite.pk}", headers=headers, timeout=10),
    ]
    return [(r.status_code, r.json()) for r in responses]


# --- invite tokens guessed ---------------------------------------------------------------------------

SIGNUP = {"password": PASSWORD, "first_name": "Mallory", "email": "mallory@example.com"}


def _guesses(invite) -> list[str]:
    real = invite.token
    return [
        secrets.token_urlsafe(32),
        real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
        real.upper() if real.upper() != real else real.lower(),  # another case
        real[:20],  # a prefix
        f"{real}x",
        "0",
    ]


def test_guessed_invite_tokens_are_404_and_redeem_nothing(world):
    invite = world["invite"]
    before = _snapshot(world["double"])

    answers = []
    for token in _guesses(invite):
        preview = requests.get(f"{world['url']}/invites/{token}/preview", timeout=10)
        redeem = requests.post(f"{world['url']}/invites/{token}/redeem", json=SIGNUP, timeout=30)
        answers += [(preview.status_code, preview.json()), (redeem.status_code, redeem.json())]

    assert answers == [(404, {"detail": INVITE_NOT_FOUND})] * 2 * len(_guesses(invite))
    _assert_nothing_changed(world, before)


@pytest.fixture
def throttled_wisdom(django_db_setup, django_db_blocker, tmp_path):
    """A low invite rate behind one proxy; one worker, so its in-memory throttle counts every call."""
    with (
        django_db_blocker.unblock(),
        wisdom_server(tmp_path, workers=1, threads=4, THROTTLE_RATE_INVITES="5/min", NUM_PROXIES="1") as server,
    ):
        yield server


def test_guessing_invite_tokens_is_throttled_per_client_with_retry_after(world, throttled_wisdom):
    url, invite = throttled_wisdom.url, world["invite"]
    guesser = {"X-Forwarded-For": "203.0.113.7"}
    before = _snapshot(world["double"])

    guesses = [secrets.token_urlsafe(32) for _ in range(5)]
    answers = [requests.get(f"{url}/invites/{token}/preview", headers=guesser, timeout=10) for token in guesses[:3]]
    answers += [
        requests.post(f"{url}/invites/{t}/redeem", json=SIGNUP, headers=guesser, timeout=30) for t in guesses[3:]
    ]
    sixth = requests.post(f"{url}/invites/{secrets.token_urlsafe(32)}/redeem", json=SIGNUP, headers=guesser, timeout=10)
    # the real token from the same client is throttled too: the limit is on the client, not on what it guesses
    real = requests.post(f"{url}/invites/{invite.token}/redeem", json=SIGNUP, headers=guesser, timeout=10)
    other_client = requests.get(
        f"{url}/invites/{guesses[0]}/preview", headers={"X-Forwarded-For": "203.0.113.8"}, timeout=10
    )

    assert [(r.status_code, r.json()) for r in answers] == [(404, {"detail": INVITE_NOT_FOUND})] * 5
    for throttled in (sixth, real):
        assert throttled.status_code == 429
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 60
        assert throttled.json() == {"detail": f"Request was throttled. Expected available in {wait} seconds."}
    assert (other_client.status_code, other_client.json()) == (404, {"detail": INVITE_NOT_FOUND})
    _assert_nothing_changed(world, before)


# --- oversize and malformed bodies ------------------------------------------------------------------


def _body_routes(world) -> list[tuple[str, dict, dict]]:
    """Path, headers, and a body that would succeed: so a refusal is the body's doing."""
    alice_headers = bearer(world["alice"])
    return [
        ("/auth/login", {}, {"email": world["alice"].email, "password": PASSWORD}),
        ("/personal/entities", alice_headers, {"name": "bea"}),
        ("/personal/entities/ada/messages", alice_headers, {"content": "hi"}),
        (f"/invites/{world['invite'].token}/redeem", {}, SIGNUP),
    ]


def _padded(body: dict, size: int) -> bytes:
    """`body` as JSON of exactly `size` bytes: the same document, followed by whitespace JSON allows."""
    data = json.dumps(body).encode()
    return data + b" " * (size - len(data))


def test_a_body_over_one_mebibyte_is_413_on_every_write_route_and_creates_nothing(world):
    routes = _body_routes(world)
    before = _snapshot(world["double"])

    answers = []
    for path, headers, _ in routes:
        status, payload = _declared_oversize(world["url"], path, {**headers, "Content-Type": "application/json"})
        answers.append((path, status, payload))

    assert answers == [(path, 413, TOO_LARGE) for path, _, _ in routes]
    _assert_nothing_changed(world, before)


def test_a_malformed_json_body_is_400_on_every_write_route_and_creates_nothing(world):
    routes = _body_routes(world)
    before = _snapshot(world["double"])

    answers = []
    for path, headers, _ in routes:
        status, payload, _ = _raw(
            world["url"], "POST", path, {**headers, "Content-Type": "application/json"}, MALFORMED
        )
        answers.append((path, status, payload))

    assert answers == [(path, 400, PARSE_ERROR) for path, _, _ in routes]
    _assert_nothing_changed(world, before)


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"name": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001],
    ids=["arrays", "objects"],
)
def test_a_json_body_nested_too_deeply_is_400_on_every_write_route_and_creates_nothing(world, body):
    # Well under the size limit, yet json recurses once per level: this was a 500 (RecursionError).
    routes = [*_body_routes(world), ("/auth/refresh", {}, {})]
    patch_headers = {**bearer(world["alice"]), "Content-Type": "application/json"}
    before = _snapshot(world["double"])

    answers = []
    for path, headers, _ in routes:
        status, payload, _ = _raw(world["url"], "POST", path, {**headers, "Content-Type": "application/json"}, body)
        answers.append((path, status, payload))
    status, payload, _ = _raw(world["url"], "PATCH", "/personal/entities/ada", patch_headers, body)
    answers.append(("PATCH ada", status, payload))

    expected = bad_request(NESTED_TOO_DEEPLY)
    assert answers == [(path, 400, expected) for path, _, _ in routes] + [("PATCH ada", 400, expected)]
    _assert_nothing_changed(world, before)


def test_the_same_bodies_within_the_limit_do_succeed(world):
    """The control for the two tests above: each route takes a well-formed body just under the limit."""
    routes = _body_routes(world)

    answers = []
    for path, headers, body in routes:
        status, _, _ = _raw(
            world["url"], "POST", path, {**headers, "Content-Type": "application/json"}, _padded(body, BODY_LIMIT)
        )
        answers.append((path, status))

    assert answers == [(routes[0][0], 200), (routes[1][0], 201), (routes[2][0], 201), (routes[3][0], 201)]
