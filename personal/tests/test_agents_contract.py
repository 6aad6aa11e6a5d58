"""The agents service's contract is a valid OpenAPI document, and the client's refusal table is the one it states."""

import json
import uuid

import pytest
import responses
from openapi_spec_validator import validate

from personal import agents_contract
from personal.client import REFUSALS, AgentsClient
from personal.errors import AgentsFailed, AgentsRefused

BASE = "http://agents.test"
USER = uuid.UUID("7a0c1e9b-5d2f-4c3a-8b6e-1f2a3b4c5d6e")

# Each client call with the arguments it needs, and its operation in the document.
CALLS = {
    "entity_list": lambda c: c.entity_list(user_id=USER),
    "entity_create": lambda c: c.entity_create(user_id=USER, data={"name": "ada"}),
    "entity_get": lambda c: c.entity_get(user_id=USER, name="ada"),
    "entity_update": lambda c: c.entity_update(user_id=USER, name="ada", data={"description": "d"}),
    "entity_delete": lambda c: c.entity_delete(user_id=USER, name="ada"),
    "entity_pause": lambda c: c.entity_pause(user_id=USER, name="ada"),
    "entity_resume": lambda c: c.entity_resume(user_id=USER, name="ada"),
    "message_send": lambda c: c.message_send(user_id=USER, name="ada", content="hi"),
    "message_list": lambda c: c.message_list(user_id=USER, name="ada", limit=5),
}


@pytest.fixture
def client():
    made = AgentsClient(
        base_url=BASE,
        api_key="k",
        timeout=5,
        chat_timeout=5,
        connect_timeout=2,
        pool_size=2,
        max_response_bytes=1_000_000,
    )
    yield made
    made.close()


def _operation_url(operation_id: str) -> tuple[str, str]:
    method, path, _ = agents_contract.operations()[operation_id]
    return method, BASE + path.replace("{name}", "ada")


def test_the_agents_document_is_valid_openapi():
    validate(agents_contract.document())


def test_every_client_call_is_an_operation_of_the_document():
    assert set(CALLS) == set(agents_contract.operations()) == set(REFUSALS)


@pytest.mark.parametrize("operation_id", sorted(CALLS))
@responses.activate
def test_each_documented_refusal_passes_through_with_its_status_and_detail(client, operation_id):
    method, url = _operation_url(operation_id)
    for status in sorted(REFUSALS[operation_id]):
        responses.reset()
        responses.add(method, url, status=status, json={"detail": f"refused {status}"})
        with pytest.raises(AgentsRefused) as refused:
            CALLS[operation_id](client)
        assert refused.value.status_code == status
        assert refused.value.detail == f"refused {status}"


@pytest.mark.parametrize("operation_id", sorted(CALLS))
@responses.activate
def test_a_status_the_document_does_not_list_for_a_call_is_a_contract_failure(client, operation_id):
    method, url = _operation_url(operation_id)
    undocumented = next(s for s in (418, 410, 404, 403) if s not in agents_contract.statuses(operation_id))
    responses.add(method, url, status=undocumented, json={"detail": "not in the contract"})
    with pytest.raises(AgentsFailed):
        CALLS[operation_id](client)


def test_the_refusal_table_leaves_out_what_the_client_handles_for_every_call():
    for operation_id, refused in REFUSALS.items():
        documented = agents_contract.statuses(operation_id)
        assert {400, 401, 429} <= documented, operation_id
        assert refused == {s for s in documented if 400 <= s < 500} - {400, 401, 429}


def test_the_doubles_limits_are_the_documents():
    from agents_double import store

    assert store.CONTENT_MAX == agents_contract.max_length("ChatRequest", "content")
    assert store.TEXT_LIMITS == {"display_name": 200, "description": 2000}
    assert (store.PAGE_MIN, store.PAGE_DEFAULT, store.PAGE_MAX) == (1, 50, 200)
    assert json.dumps(sorted(store.ENTITY_FIELDS)) == json.dumps(["description", "display_name", "name"])
