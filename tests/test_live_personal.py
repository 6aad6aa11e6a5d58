"""The personal routes on a running gunicorn, calling the agents double: all over real HTTP."""

import http.client
import json
from urllib.parse import quote, urlsplit

import pytest
import requests

from tests.helpers.auth import bearer
from tests.helpers.constants import AGENTS_API_KEY, PASSWORD, SERVICE_KEY

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(make_live_user):
    return make_live_user(email="alice.live@example.com")


@pytest.fixture
def bob(make_live_user):
    return make_live_user(email="bob.live@example.com")


def _raw_request(url: str, method: str, path: str, headers: dict) -> tuple[int, dict]:
    """http.client sends the path byte for byte; requests would normalise dot segments and %2E away."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_all_nine_routes_work_for_a_logged_in_user(wisdom_agents_live, agents_double, alice):
    base = f"{wisdom_agents_live.url}/personal/entities"
    login = requests.post(
        f"{wisdom_agents_live.url}/auth/login", json={"email": alice.email, "password": PASSWORD}, timeout=10
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    with requests.Session() as s:
        s.headers.update(auth)
        created = s.post(base, json={"name": "ada", "display_name": "Ada"}, timeout=10)
        assert created.status_code == 201 and created.json()["owner_user_id"] == str(alice.pk)
        assert [e["name"] for e in s.get(base, timeout=10).json()] == ["ada"]
        assert s.get(f"{base}/ada", timeout=10).json()["display_name"] == "Ada"
        assert s.patch(f"{base}/ada", json={"description": "d"}, timeout=10).json()["description"] == "d"
        assert s.post(f"{base}/ada/pause", timeout=10).json()["status"] == "paused"
        assert s.post(f"{base}/ada/resume", timeout=10).json()["status"] == "active"
        sent = s.post(f"{base}/ada/messages", json={"content": "hello"}, timeout=10)
        assert sent.status_code == 201 and sent.json()["reply"] == "You said: hello"
        history = s.get(f"{base}/ada/messages", params={"limit": 1}, timeout=10)
        assert [m["content"] for m in history.json()] == ["You said: hello"]
        assert s.delete(f"{base}/ada", timeout=10).status_code == 204
    assert agents_double.entities() == []


def test_user_a_gets_403_on_user_bs_entity_over_http(wisdom_agents_live, agents_double, alice, bob):
    base = f"{wisdom_agents_live.url}/personal/entities"
    assert requests.post(base, json={"name": "bobs"}, headers=bearer(bob), timeout=10).status_code == 201

    for method, path, body in [
        ("GET", "/bobs", None),
        ("PATCH", "/bobs", {"description": "x"}),
        ("DELETE", "/bobs", None),
        ("POST", "/bobs/pause", None),
        ("POST", "/bobs/messages", {"content": "hi"}),
        ("GET", "/bobs/messages", None),
    ]:
        response = requests.request(method, base + path, json=body, headers=bearer(alice), timeout=10)
        assert response.status_code == 403, (method, path)
    assert requests.get(base, headers=bearer(alice), timeout=10).json() == []
    assert [(e["name"], e["status"]) for e in agents_double.entities()] == [("bobs", "active")]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/personal/entities/a%2Fb"),
        ("GET", "/personal/entities/a%2fb"),
        ("POST", "/personal/entities/x%2Fpause"),
        ("GET", "/personal/entities/x%2F"),
        ("GET", "/personal/entities/x%2Fmessages"),
        ("DELETE", "/personal/entities/..%2F..%2Fadmin"),
    ],
)
def test_an_encoded_slash_is_400_and_never_reaches_upstream(wisdom_agents_live, agents_double, alice, method, path):
    status, body = _raw_request(wisdom_agents_live.url, method, path, bearer(alice))

    assert status == 400
    assert body == {"detail": "name: Entity name must not contain '/' (%2F).", "errors": body["errors"]}
    assert agents_double.received() == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/personal/entities/%2E%2E", "Entity name must not be '.' or '..'."),
        ("/personal/entities/%2e", "Entity name must not be '.' or '..'."),
        ("/personal/entities/a%5Cb", "Entity name must not contain '/' or '\\'."),
        ("/personal/entities/a%00b", "Entity name must not contain control characters."),
        ("/personal/entities/a%1Bb/messages", "Entity name must not contain control characters."),
    ],
)
def test_a_bad_name_is_400_over_http_and_never_sent(wisdom_agents_live, agents_double, alice, path, message):
    status, body = _raw_request(wisdom_agents_live.url, "GET", path, bearer(alice))

    assert status == 400
    assert body["detail"] == f"name: {message}"
    assert agents_double.received() == []


def test_upstream_gets_only_wisdoms_headers_never_the_clients(wisdom_agents_live, agents_double, alice, bob):
    response = requests.get(
        f"{wisdom_agents_live.url}/personal/entities",
        headers={
            **bearer(alice),
            "X-User-Id": str(bob.pk),
            "X-API-Key": "client-key",
            "Cookie": "sessionid=client-cookie",
            "X-Request-ID": "live-trace-1",
        },
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "live-trace-1"  # echoed to the client and passed upstream
    [received] = agents_double.received()
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["x-api-key"] == AGENTS_API_KEY
    assert headers["x-user-id"] == str(alice.pk)
    assert headers["x-request-id"] == "live-trace-1"
    assert "authorization" not in headers and "cookie" not in headers
    assert "client-key" not in json.dumps(received) and "client-cookie" not in json.dumps(received)


def test_a_service_acting_for_a_user_is_forwarded_as_that_user(wisdom_agents_live, agents_double, alice):
    response = requests.get(
        f"{wisdom_agents_live.url}/personal/entities",
        headers={"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(alice.pk)},
        timeout=10,
    )

    assert response.status_code == 200
    assert agents_double.received()[0]["headers"]["X-User-Id"] == str(alice.pk)
    assert SERVICE_KEY not in json.dumps(agents_double.received())


def test_the_access_line_carries_upstream_status_and_time_and_no_key(wisdom_agents_live, agents_double, alice):
    agents_double.switch(fault="unauthorized", fault_match="^GET /entities/probe$")
    ok = requests.get(f"{wisdom_agents_live.url}/personal/entities", headers=bearer(alice), timeout=10)
    rejected = requests.get(f"{wisdom_agents_live.url}/personal/entities/probe", headers=bearer(alice), timeout=10)

    assert ok.status_code == 200
    assert rejected.status_code == 502
    lines = [json.loads(line) for line in wisdom_agents_live.log().splitlines() if line.startswith("{")]
    access = {line["request_id"]: line for line in lines if line.get("logger") == "wisdom.access"}
    assert access[ok.headers["X-Request-ID"]]["upstream_status"] == 200
    assert access[ok.headers["X-Request-ID"]]["upstream_ms"] > 0
    assert access[rejected.headers["X-Request-ID"]]["upstream_status"] == 401
    assert AGENTS_API_KEY not in wisdom_agents_live.log()


def test_a_slow_upstream_is_504_from_wisdom_not_a_dead_worker(agents_double, alice, tmp_path):
    from tests.helpers.live import wisdom_server

    agents_double.switch(fault="hang")
    with wisdom_server(
        tmp_path,
        double=agents_double,
        INTUNO_AGENTS_TIMEOUT_SECONDS="0.5",
    ) as server:
        response = requests.get(f"{server.url}/personal/entities", headers=bearer(alice), timeout=10)

    assert response.status_code == 504
    assert response.json() == {"detail": "The agents service did not answer in time."}


def test_the_longest_name_and_cursor_fit_one_request_line(wisdom_agents_live, agents_double, alice):
    name = "\N{GRINNING FACE}" * 255  # 4 bytes each in UTF-8: 12 characters each once percent-encoded
    path = f"/personal/entities/{quote(name, safe='')}/messages?limit=200&before={quote('%' * 512, safe='')}"

    status, body = _raw_request(wisdom_agents_live.url, "GET", path, bearer(alice))

    assert len(path) > 4094  # gunicorn's default limit would have answered 414 before wisdom saw it
    assert status == 404 and body["detail"]  # wisdom checked it and asked upstream, which holds no such entity
    [received] = agents_double.received()
    assert received["path"].startswith(f"/entities/{quote(name, safe='')}/chat?limit=200&before=")


def test_undocumented_fields_are_400_over_http_and_nothing_reaches_upstream(wisdom_agents_live, agents_double, alice):
    base = f"{wisdom_agents_live.url}/personal/entities"
    smuggled = {"owner_user_id": "someone-else", "plan": "enterprise"}
    agents_double.seed_entity(name="ada", owner_id=str(alice.pk), display_name="Ada")
    agents_double.clear_received()

    answers = [
        requests.post(base, json={"name": "bea", **smuggled}, headers=bearer(alice), timeout=10),
        requests.patch(f"{base}/ada", json={"description": "d", **smuggled}, headers=bearer(alice), timeout=10),
        requests.post(f"{base}/ada/messages", json={"content": "hi", **smuggled}, headers=bearer(alice), timeout=10),
    ]

    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert answer.json()["errors"] == {"owner_user_id": ["Unknown field."], "plan": ["Unknown field."]}
    assert agents_double.received() == []
    [ada] = agents_double.entities()
    assert (ada["name"], ada["description"], ada["owner_user_id"]) == ("ada", "", str(alice.pk))
