"""The agents double and wisdom's client, over real HTTP, against the agents service's contract document.

The double's every answer (each operation's success and each refusal it documents) must be what the document
says; every request wisdom sends upstream, for every route (a streamed chat and a paged history included), must
be one the document accepts; and schemathesis draws more requests from the document for the double to answer.
"""

import json
import uuid
from urllib.parse import quote

import hypothesis
import pytest
import requests
import schemathesis

from personal.agents_contract import DOCUMENT_PATH
from tests.helpers.agents_contract import answer_problems, request_problems
from tests.helpers.auth import bearer
from tests.helpers.constants import AGENTS_API_KEY

pytestmark = [pytest.mark.live]

OWNER = "4f1e2d3c-5b6a-4978-8a1b-2c3d4e5f6a7b"
STRANGER = "9e8d7c6b-5a49-4837-9261-504f3e2d1c0b"


class Caller:
    """Calls the double as wisdom does and keeps every contract problem seen in its answers."""

    def __init__(self, url: str):
        self.url = url
        self.problems: list[str] = []
        self.statuses: set[tuple[str, str, int]] = set()

    def __call__(self, method: str, path: str, *, user=OWNER, key=AGENTS_API_KEY, body=None, accept=None, label=""):
        headers = {"X-API-Key": key, "X-Request-ID": "contract-test"}
        if user is not None:
            headers["X-User-Id"] = user
        if accept:
            headers["Accept"] = accept
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        answer = requests.request(method, self.url + path, headers=headers, data=data, timeout=10)
        self.problems += answer_problems(method, path, headers, data, answer)
        self.statuses.add((label or method, path, answer.status_code))
        return answer


@pytest.fixture
def double(agents_double):
    return Caller(agents_double.url)


def test_every_answer_of_the_double_is_one_the_document_states(double):
    assert double("POST", "/entities", body={"name": "ada", "display_name": "Ada"}).status_code == 201
    assert double("POST", "/entities", body={"name": "ada"}).status_code == 409
    assert double("POST", "/entities", body={"name": "bob", "plan": "enterprise"}).status_code == 422
    assert double("GET", "/entities").json()[0]["name"] == "ada"
    assert double("GET", "/entities/ada").status_code == 200
    assert double("GET", "/entities/ada", user=STRANGER).status_code == 403
    assert double("GET", "/entities/nobody").status_code == 404
    assert double("PATCH", "/entities/ada", body={"description": "d"}).json()["description"] == "d"
    assert double("PATCH", "/entities/ada", body={"name": "eve"}).status_code == 422
    assert double("POST", "/entities/ada/pause").json()["status"] == "paused"
    assert double("POST", "/entities/ada/chat", body={"content": "hi"}).status_code == 409
    assert double("POST", "/entities/ada/resume").json()["status"] == "active"
    for n in range(3):
        sent = double("POST", "/entities/ada/chat", body={"content": f"hello {n}"}, accept="application/json")
        assert sent.status_code == 201
    streamed = double("POST", "/entities/ada/chat", body={"content": "stream"}, accept="text/event-stream")
    assert streamed.status_code == 200 and "event: done" in streamed.text
    assert double("POST", "/entities/ada/chat", body={"content": ""}).status_code == 422
    page = double("GET", "/entities/ada/chat?limit=2").json()
    assert [m["role"] for m in page] == ["user", "assistant"]
    older = double("GET", f"/entities/ada/chat?limit=200&before={quote(page[0]['id'])}").json()
    assert len(older) == 6 and older[-1]["id"] < page[0]["id"]
    assert double("GET", "/entities/ada/chat?before=m-unknown").status_code == 422
    assert double("GET", "/entities/ada/chat?limit=201").status_code == 422
    assert double("GET", "/entities", user=None).status_code == 400
    assert double("GET", "/entities", key="wrong").status_code == 401
    assert double("DELETE", "/entities/ada", user=STRANGER).status_code == 403
    assert double("DELETE", "/entities/ada").status_code == 204
    assert double("DELETE", "/entities/ada").status_code == 404
    assert double.problems == []


def test_every_request_wisdom_sends_upstream_is_one_the_document_accepts(
    wisdom_agents_live, agents_double, make_live_user
):
    person = make_live_user(email="contract.requests@example.com")
    base = f"{wisdom_agents_live.url}/personal/entities"
    with requests.Session() as s:
        s.headers.update(bearer(person))
        created = s.post(base, json={"name": "ada", "display_name": "Ada", "description": "x"}, timeout=10)
        assert created.status_code == 201
        assert s.get(base, timeout=10).status_code == 200
        assert s.get(f"{base}/ada", timeout=10).status_code == 200
        assert s.patch(f"{base}/ada", json={"description": "d"}, timeout=10).status_code == 200
        assert s.post(f"{base}/ada/pause", timeout=10).status_code == 200
        assert s.post(f"{base}/ada/resume", timeout=10).status_code == 200
        assert s.post(f"{base}/ada/messages", json={"content": "hello"}, timeout=10).status_code == 201
        streamed = s.post(
            f"{base}/ada/messages", json={"content": "stream me"}, headers={"Accept": "text/event-stream"}, timeout=10
        )
        assert streamed.status_code == 200 and "event: done" in streamed.text
        first = s.get(f"{base}/ada/messages", params={"limit": 1}, timeout=10).json()
        older = s.get(f"{base}/ada/messages", params={"limit": 2, "before": first[0]["id"]}, timeout=10)
        assert older.status_code == 200
        assert s.delete(f"{base}/ada", timeout=10).status_code == 204
    received = agents_double.received()
    operations = {(r["method"], r["path"].split("?")[0]) for r in received}
    assert operations == {
        ("POST", "/entities"),
        ("GET", "/entities"),
        ("GET", "/entities/ada"),
        ("PATCH", "/entities/ada"),
        ("POST", "/entities/ada/pause"),
        ("POST", "/entities/ada/resume"),
        ("POST", "/entities/ada/chat"),
        ("GET", "/entities/ada/chat"),
        ("DELETE", "/entities/ada"),
    }
    assert all(r["headers"]["X-User-Id"] == str(person.pk) for r in received)
    assert [problem for r in received for problem in request_problems(r)] == []


def test_a_request_outside_the_document_is_caught_by_the_check():
    wrong = {
        "method": "POST",
        "path": "/entities",
        "headers": {"X-API-Key": "k", "X-User-Id": str(uuid.uuid4()), "Content-Type": "application/json"},
        "body": json.dumps({"name": "ada", "owner_user_id": "someone-else"}),
    }
    assert request_problems(wrong) != []
    assert request_problems({**wrong, "body": json.dumps({"name": "ada"})}) == []
    no_user = {**wrong, "headers": {"X-API-Key": "k"}, "body": json.dumps({"name": "ada"})}
    assert request_problems(no_user) != []


contract = schemathesis.openapi.from_path(
    DOCUMENT_PATH,
    config=schemathesis.Config.from_dict(
        {
            "seed": 11,
            "request-timeout": 15,
            "generation": {"with-security-parameters": False, "mode": "positive"},
            "checks": {
                # Drawn names and users mostly meet 404/403: documented refusals, not a bug.
                "positive_data_acceptance": {"enabled": False},
                "not_a_server_error": {"expected-statuses": ["2xx", "4xx"]},
            },
        }
    ),
)


@pytest.fixture(scope="module")
def double_url(agents_double_session):
    agents_double_session.reset()
    agents_double_session.seed_entity(name="seeded", owner_id=OWNER)
    return agents_double_session.url


@contract.parametrize()
@hypothesis.settings(max_examples=20, deadline=None, derandomize=True, database=None)
@pytest.mark.fuzz
def test_schemathesis_draws_requests_whose_answers_the_document_states(case, double_url):
    case.call_and_validate(base_url=double_url, headers={"X-API-Key": AGENTS_API_KEY})
