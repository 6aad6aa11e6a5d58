"""AgentsClient alone, against `responses`: URLs, headers, time-outs, and every kind of failure as a typed error."""

import logging
import uuid

import pytest
import requests
import responses
from requests.structures import CaseInsensitiveDict
from responses import matchers
from urllib3.exceptions import ProtocolError

from personal.client import AgentsClient, agents_client
from personal.errors import (
    AgentsCredentialsRejected,
    AgentsFailed,
    AgentsRateLimited,
    AgentsRefused,
    AgentsTimeout,
    AgentsUnreachable,
)
from personal.transport import BoundedResponse

BASE = "http://agents.test"
KEY = "secret-agents-key-123"
USER = uuid.UUID("6f1c2b9e-4d3a-4b8e-9a51-0c2f7d9e1a34")
ENTITY = {"name": "ada", "status": "active", "owner_user_id": str(USER)}


@pytest.fixture
def client():
    return AgentsClient(
        base_url=BASE,
        api_key=KEY,
        timeout=7,
        chat_timeout=42,
        connect_timeout=1.5,
        pool_size=5,
        max_response_bytes=4096,
    )


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def test_every_call_sends_the_key_the_user_and_a_request_id(client, mocked):
    mocked.get(
        f"{BASE}/entities",
        json=[],
        match=[matchers.header_matcher({"X-API-Key": KEY, "X-User-Id": str(USER), "Accept": "application/json"})],
    )

    assert client.entity_list(user_id=USER) == []
    assert len(mocked.calls[0].request.headers["X-Request-ID"]) == 32
    assert "Content-Type" not in mocked.calls[0].request.headers


def test_a_body_goes_as_json(client, mocked):
    mocked.post(f"{BASE}/entities", json=ENTITY, status=201, match=[matchers.json_params_matcher({"name": "ada"})])

    assert client.entity_create(user_id=USER, data={"name": "ada"}) == ENTITY
    assert mocked.calls[0].request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("ada", "/entities/ada"),
        ("a b", "/entities/a%20b"),
        ("a/b", "/entities/a%2Fb"),
        ("?#%", "/entities/%3F%23%25"),
        ("é", "/entities/%C3%A9"),
    ],
)
def test_a_name_is_one_percent_encoded_segment(client, mocked, name, path):
    mocked.get(f"{BASE}{path}", json=ENTITY)

    client.entity_get(user_id=USER, name=name)

    assert mocked.calls[0].request.path_url == path


@pytest.mark.parametrize("name", [".", ".."])
def test_a_dot_segment_name_is_refused_before_sending(client, mocked, name):
    with pytest.raises(ValueError, match="cannot be"):
        client.entity_get(user_id=USER, name=name)

    assert len(mocked.calls) == 0


def test_each_route_calls_its_upstream_path(client, mocked):
    mocked.patch(f"{BASE}/entities/ada", json=ENTITY, match=[matchers.json_params_matcher({"description": "d"})])
    mocked.delete(f"{BASE}/entities/ada", status=204)
    mocked.post(f"{BASE}/entities/ada/pause", json=ENTITY)
    mocked.post(f"{BASE}/entities/ada/resume", json=ENTITY)
    mocked.post(f"{BASE}/entities/ada/chat", json={"message_id": "m1", "reply": "hi"}, status=201)
    mocked.get(
        f"{BASE}/entities/ada/chat", json=[], match=[matchers.query_param_matcher({"limit": "5", "before": "m1"})]
    )

    client.entity_update(user_id=USER, name="ada", data={"description": "d"})
    assert client.entity_delete(user_id=USER, name="ada") is None
    client.entity_pause(user_id=USER, name="ada")
    client.entity_resume(user_id=USER, name="ada")
    assert client.message_send(user_id=USER, name="ada", content="hello") == {"message_id": "m1", "reply": "hi"}
    assert client.message_list(user_id=USER, name="ada", limit=5, before="m1") == []
    assert mocked.calls[2].request.body is None


def test_reads_use_the_call_deadline_and_chat_its_own(client, monkeypatch):
    seen = []

    def fake_request(method, url, *, seconds, **kwargs):
        seen.append(round(seconds))
        body = b'{"message_id": "m1", "reply": "hi"}' if url.endswith("chat") else b"[]"
        return BoundedResponse(status=200, headers=CaseInsensitiveDict(), body=body)

    monkeypatch.setattr(client.transport, "request", fake_request)
    client.entity_list(user_id=USER)
    client.message_send(user_id=USER, name="ada", content="x")

    assert seen == [7, 42]


@pytest.mark.parametrize("status", [403, 404, 409, 422])
def test_a_refusal_keeps_its_status_and_upstreams_detail(client, mocked, status):
    mocked.post(f"{BASE}/entities/ada/chat", json={"detail": "upstream says no"}, status=status)

    with pytest.raises(AgentsRefused) as caught:
        client.message_send(user_id=USER, name="ada", content="hi")

    assert (caught.value.status_code, caught.value.detail) == (status, "upstream says no")


@pytest.mark.parametrize(
    ("call", "method", "path", "status"),
    [
        ("entity_list", "GET", "/entities", 404),
        ("entity_list", "GET", "/entities", 422),
        ("entity_get", "GET", "/entities/ada", 409),
        ("entity_get", "GET", "/entities/ada", 400),
        ("entity_pause", "POST", "/entities/ada/pause", 422),
    ],
)
def test_a_refusal_outside_the_calls_contract_is_the_agents_services_failure(
    client, mocked, caplog, call, method, path, status
):
    mocked.add(method, f"{BASE}{path}", json={"detail": "upstream says no"}, status=status)
    arguments = {"user_id": USER} if call == "entity_list" else {"user_id": USER, "name": "ada"}

    with pytest.raises(AgentsFailed) as caught, caplog.at_level(logging.ERROR, logger="personal.client"):
        getattr(client, call)(**arguments)

    assert (caught.value.status_code, caught.value.detail) == (502, AgentsFailed.default_detail)
    assert f"unexpected status on {method} {path} answered {status}" in caplog.text


@pytest.mark.parametrize(
    "body",
    [b"<html>nope</html>", b"", b'{"error": "x"}', b'{"detail": 5}', b'{"detail": ""}', b'["detail"]'],
)
def test_a_refusal_without_a_usable_json_detail_gets_the_generic_one_for_its_status(client, mocked, body):
    mocked.get(f"{BASE}/entities/ada", body=body, status=404)

    with pytest.raises(AgentsRefused) as caught:
        client.entity_get(user_id=USER, name="ada")

    assert caught.value.detail == "Not found."


def test_a_list_of_validation_messages_becomes_one_detail(client, mocked):
    detail = [{"loc": ["body", "name"], "msg": "field required"}, {"msg": "too long"}, "plain"]
    mocked.post(f"{BASE}/entities", json={"detail": detail}, status=422)

    with pytest.raises(AgentsRefused) as caught:
        client.entity_create(user_id=USER, data={})

    assert caught.value.detail == "field required; too long; plain"


def test_429_carries_retry_after(client, mocked):
    mocked.get(f"{BASE}/entities", json={"detail": "slow down"}, status=429, headers={"Retry-After": "17"})

    with pytest.raises(AgentsRateLimited) as caught:
        client.entity_list(user_id=USER)

    assert (caught.value.headers, caught.value.detail) == ({"Retry-After": "17"}, "slow down")


@pytest.mark.parametrize(
    ("header", "kept"), [("Wed, 21 Oct 2026 07:28:00 GMT", True), ("x\u2028y", False), ("", False)]
)
def test_only_a_sane_retry_after_is_kept(client, mocked, header, kept):
    mocked.get(f"{BASE}/entities", body="busy", status=429, headers={"Retry-After": header} if header else {})

    with pytest.raises(AgentsRateLimited) as caught:
        client.entity_list(user_id=USER)

    assert caught.value.headers == ({"Retry-After": header} if kept else {})
    assert caught.value.detail == "Too many requests; try again later."


def test_401_is_a_credentials_error_logged_without_the_key(client, mocked, caplog):
    mocked.get(f"{BASE}/entities", json={"detail": f"bad key {KEY}"}, status=401)

    with caplog.at_level(logging.ERROR, logger="personal.client"), pytest.raises(AgentsCredentialsRejected):
        client.entity_list(user_id=USER)

    assert "rejected this server's credentials" in caplog.text
    assert KEY not in caplog.text


@pytest.mark.parametrize("status", [500, 502, 503, 504, 301, 302, 418, 451])
def test_any_other_status_is_a_failure_with_the_body_logged_truncated(client, mocked, caplog, status):
    mocked.get(f"{BASE}/entities", body="Traceback: secret-internal-" + "x" * 2000, status=status)

    with caplog.at_level(logging.ERROR, logger="personal.client"), pytest.raises(AgentsFailed):
        client.entity_list(user_id=USER)

    logged_body = ("Traceback: secret-internal-" + "x" * 2000)[:500]
    assert f"body: '{logged_body}'" in caplog.text


def test_a_redirect_is_not_followed(client, mocked):
    mocked.get(f"{BASE}/entities", status=302, headers={"Location": "http://elsewhere.test/steal"})

    with pytest.raises(AgentsFailed):
        client.entity_list(user_id=USER)

    assert len(mocked.calls) == 1


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("list", b"<html>ok</html>"),
        ("list", b'{"not": "a list"}'),
        ("list", b"[1, 2]"),
        ("get", b"[]"),
        ("get", b"null"),
        ("get", b"not json"),
        ("chat", b'{"reply": "no id"}'),
        ("chat", b'{"message_id": "m1", "reply": 5}'),
    ],
)
def test_a_success_that_is_not_the_expected_json_is_a_failure(client, mocked, call, body):
    mocked.get(f"{BASE}/entities", body=body)
    mocked.get(f"{BASE}/entities/ada", body=body)
    mocked.post(f"{BASE}/entities/ada/chat", body=body)
    mocked.assert_all_requests_are_fired = False

    calls = {
        "list": lambda: client.entity_list(user_id=USER),
        "get": lambda: client.entity_get(user_id=USER, name="ada"),
        "chat": lambda: client.message_send(user_id=USER, name="ada", content="x"),
    }
    with pytest.raises(AgentsFailed):
        calls[call]()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.ConnectTimeout("connect timed out"), AgentsTimeout),
        (requests.ReadTimeout("read timed out"), AgentsTimeout),
        (requests.ConnectionError("Connection refused"), AgentsUnreachable),
        (requests.ConnectionError("Name or service not known"), AgentsUnreachable),
        (requests.exceptions.ChunkedEncodingError("reset mid-body"), AgentsFailed),
        (requests.exceptions.InvalidURL("bad url"), AgentsFailed),
    ],
)
def test_transport_failures_become_typed_errors_with_their_cause(client, mocked, error, expected):
    mocked.post(f"{BASE}/entities/ada/chat", body=error)

    with pytest.raises(expected) as caught:
        client.message_send(user_id=USER, name="ada", content="x")

    assert _root_cause(caught.value) is error


def _dropped() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


def test_an_idempotent_call_on_a_dropped_pooled_connection_is_retried_once(client, mocked):
    mocked.get(f"{BASE}/entities", body=_dropped())
    mocked.get(f"{BASE}/entities", json=[])

    assert client.entity_list(user_id=USER) == []
    assert len(mocked.calls) == 2


def test_an_idempotent_call_is_retried_only_once(client, mocked):
    mocked.delete(f"{BASE}/entities/ada", body=_dropped())
    mocked.delete(f"{BASE}/entities/ada", body=_dropped())

    with pytest.raises(AgentsUnreachable):
        client.entity_delete(user_id=USER, name="ada")

    assert len(mocked.calls) == 2


@pytest.mark.parametrize("method", ["create", "chat", "pause", "patch"])
def test_a_non_idempotent_call_is_never_retried(client, mocked, method):
    for verb, path in [("POST", "/entities"), ("POST", "/entities/ada/chat"), ("POST", "/entities/ada/pause")]:
        mocked.add(verb, f"{BASE}{path}", body=_dropped())
    mocked.add("PATCH", f"{BASE}/entities/ada", body=_dropped())
    mocked.assert_all_requests_are_fired = False
    calls = {
        "create": lambda: client.entity_create(user_id=USER, data={"name": "ada"}),
        "chat": lambda: client.message_send(user_id=USER, name="ada", content="x"),
        "pause": lambda: client.entity_pause(user_id=USER, name="ada"),
        "patch": lambda: client.entity_update(user_id=USER, name="ada", data={"description": "d"}),
    }

    with pytest.raises(AgentsUnreachable):
        calls[method]()

    assert len(mocked.calls) == 1


def test_a_timeout_is_never_retried_even_when_idempotent(client, mocked):
    mocked.get(f"{BASE}/entities", body=requests.ReadTimeout("slow"))

    with pytest.raises(AgentsTimeout):
        client.entity_list(user_id=USER)

    assert len(mocked.calls) == 1


def test_cookies_set_by_upstream_are_never_sent_back(client, mocked):
    mocked.get(f"{BASE}/entities", json=[], headers={"Set-Cookie": "session=user-a; Path=/"})
    mocked.get(f"{BASE}/entities", json=[])

    client.entity_list(user_id=USER)
    client.entity_list(user_id=uuid.uuid4())

    assert "Cookie" not in mocked.calls[1].request.headers


def test_one_client_per_process_that_ignores_proxies_from_the_environment(monkeypatch, agents_double):
    for variable in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")  # nothing listens there: using it would fail
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    built = agents_client()

    assert built.entity_list(user_id=USER) == []
    assert agents_client() is built


def test_changing_an_agents_setting_builds_a_fresh_client(settings):
    settings.INTUNO_AGENTS_BASE_URL = BASE
    first = agents_client()

    settings.INTUNO_AGENTS_BASE_URL = "http://other.test"

    assert agents_client() is not first
    assert agents_client().base_url == "http://other.test"


def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error
