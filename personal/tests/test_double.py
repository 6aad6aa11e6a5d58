"""The agents double honours the contract wisdom relies on, and its control routes do what tests need."""

import pytest
import requests

from tests.helpers.constants import AGENTS_API_KEY

ALICE = {"X-API-Key": AGENTS_API_KEY, "X-User-Id": "alice"}
BOB = {"X-API-Key": AGENTS_API_KEY, "X-User-Id": "bob"}


@pytest.fixture
def double(agents_double_session):
    agents_double_session.reset()
    return agents_double_session


def _call(double, method, path, headers=ALICE, **kwargs):
    return requests.request(method, f"{double.url}{path}", headers=headers, timeout=5, **kwargs)


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong", "X-User-Id": "alice"}, {"X-User-Id": "alice"}])
def test_a_missing_or_wrong_key_is_401(double, headers):
    response = _call(double, "GET", "/entities", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}


def test_a_missing_user_is_400(double):
    response = _call(double, "GET", "/entities", headers={"X-API-Key": AGENTS_API_KEY})

    assert response.status_code == 400


def test_names_are_global_and_another_owners_entity_is_403(double):
    assert _call(double, "POST", "/entities", json={"name": "ada"}).status_code == 201

    assert _call(double, "POST", "/entities", headers=BOB, json={"name": "ada"}).status_code == 409
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/pause"), ("GET", "/chat")]:
        response = _call(double, method, f"/entities/ada{path}", headers=BOB, json={"description": "x"})
        assert response.status_code == 403, (method, path)
    assert _call(double, "GET", "/entities", headers=BOB).json() == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"name": ""}',
        b'{"name": "a/b"}',
        b'{"name": "ok", "x": 1}',
        b'{"name": "ok", "description": 5}',
    ],
)
def test_a_bad_create_body_is_422(double, body):
    response = _call(double, "POST", "/entities", data=body)

    assert response.status_code == 422
    assert double.entities() == []


def test_pause_resume_and_chat_history_paging(double):
    _call(double, "POST", "/entities", json={"name": "ada"})
    assert _call(double, "POST", "/entities/ada/pause").json()["status"] == "paused"
    assert _call(double, "POST", "/entities/ada/chat", json={"content": "hi"}).status_code == 409
    assert _call(double, "POST", "/entities/ada/resume").json()["status"] == "active"

    ids = [_call(double, "POST", "/entities/ada/chat", json={"content": str(i)}).json()["message_id"] for i in range(3)]

    page = _call(double, "GET", "/entities/ada/chat", params={"limit": 2}).json()
    assert [m["content"] for m in page] == ["2", "You said: 2"]
    older = _call(double, "GET", "/entities/ada/chat", params={"limit": 200, "before": ids[1]}).json()
    assert [m["content"] for m in older] == ["0", "You said: 0"]
    assert _call(double, "GET", "/entities/ada/chat", params={"limit": 201}).status_code == 422


def test_delete_answers_204_without_a_body_on_a_kept_alive_connection(double):
    with requests.Session() as session:
        session.post(f"{double.url}/entities", json={"name": "ada"}, headers=ALICE)
        deleted = session.delete(f"{double.url}/entities/ada", headers=ALICE)
        listed = session.get(f"{double.url}/entities", headers=ALICE)

    assert (deleted.status_code, deleted.content, listed.json()) == (204, b"", [])
    assert double.stats()["connections"] == 1


def test_control_switches_are_validated_and_fault_times_counts_down(double):
    assert requests.post(f"{double.url}/__control", json={"fault": "nope"}, timeout=5).status_code == 400
    assert requests.post(f"{double.url}/__control", json={"nope": 1}, timeout=5).status_code == 400

    double.switch(fault="canned", fault_status=503, fault_times=2, fault_match="^GET /entities$")

    statuses = [_call(double, "GET", "/entities").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert double.stats()["requests"] == 3


def test_received_requests_are_recorded_with_headers_and_body(double):
    _call(double, "POST", "/entities", json={"name": "ada"}, headers={**ALICE, "X-Request-ID": "r1"})

    [received] = double.received()
    assert (received["method"], received["path"], received["body"]) == ("POST", "/entities", '{"name": "ada"}')
    assert received["headers"]["X-Request-ID"] == "r1"


def test_the_cli_serves_with_latency_and_faults(tmp_path):
    from tests.helpers.double import running_double

    args = ("--latency-ms", "50", "--fault", "non_json", "--fault-match", "^GET /entities$")
    with running_double(api_key="cli-key", log_path=tmp_path / "d.log", args=args) as double:
        response = requests.get(f"{double.url}/entities", headers={"X-API-Key": "cli-key", "X-User-Id": "u"}, timeout=5)
        switches = requests.get(f"{double.url}/__control", timeout=5).json()

    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html"
    assert switches["latency_ms"] == 50 and switches["fault"] == "non_json"
    assert "cli-key" not in (tmp_path / "d.log").read_text()


def test_a_chat_asked_for_as_a_stream_is_chunked_sse_ending_in_done(double):
    from personal.tests.sse import parse_events

    assert _call(double, "POST", "/entities", json={"name": "ada"}).status_code == 201
    headers = {**ALICE, "Accept": "text/event-stream", "X-Request-ID": "double-stream-1"}

    streamed = _call(double, "POST", "/entities/ada/chat", headers=headers, json={"content": "hi there"})
    unknown = _call(double, "POST", "/entities/nobody/chat", headers=headers, json={"content": "hi"})
    double.switch(stream_mode="json")
    whole = _call(double, "POST", "/entities/ada/chat", headers=headers, json={"content": "hi"})

    assert streamed.status_code == 200 and streamed.headers["Content-Type"] == "text/event-stream"
    assert streamed.headers["Transfer-Encoding"] == "chunked"
    events = parse_events(streamed.content)
    assert events[:-1] == [("delta", {"text": text}) for text in ("You ", "said: ", "hi ", "there")]
    assert events[-1] == ("done", {"message_id": events[-1][1]["message_id"], "reply": "You said: hi there"})
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Entity not found."})
    assert whole.status_code == 201 and whole.json()["reply"] == "You said: hi"
    [record] = double.streams()
    assert (record["request_id"], record["deltas_sent"], record["outcome"]) == ("double-stream-1", 4, "done")


def test_a_streamed_reply_announces_that_its_connection_closes_after_it(double):
    """The double closes a stream's connection when the stream ends: saying so keeps a client from putting it
    back in its pool and sending its next call down a socket about to close."""
    assert _call(double, "POST", "/entities", json={"name": "ada"}).status_code == 201
    headers = {**ALICE, "Accept": "text/event-stream"}

    streamed = _call(double, "POST", "/entities/ada/chat", headers=headers, json={"content": "hi"})

    assert streamed.status_code == 200
    assert streamed.headers["Connection"] == "close"


def test_unknown_stream_switches_are_refused(double):
    for switches in ({"stream_fault": "explode"}, {"stream_mode": "xml"}):
        response = requests.post(f"{double.url}/__control", json=switches, timeout=5)
        assert response.status_code == 400
