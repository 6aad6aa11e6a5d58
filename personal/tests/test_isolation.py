"""User A never sees, changes, pauses, chats with or deletes user B's entity; upstream misbehaving is caught too."""

import json
import logging

import pytest

from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def bobs_entity(api_client, other_user, agents_double):
    response = api_client.post("/personal/entities", {"name": "bobs"}, format="json", headers=bearer(other_user))
    assert response.status_code == 201
    return response.json()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/personal/entities/bobs", None),
        ("patch", "/personal/entities/bobs", {"description": "mine now"}),
        ("delete", "/personal/entities/bobs", None),
        ("post", "/personal/entities/bobs/pause", None),
        ("post", "/personal/entities/bobs/resume", None),
        ("post", "/personal/entities/bobs/messages", {"content": "hi"}),
        ("get", "/personal/entities/bobs/messages", None),
    ],
)
def test_user_a_gets_403_on_user_bs_entity_and_it_is_unchanged(
    api_client, user, other_user, bobs_entity, agents_double, method, path, body
):
    response = getattr(api_client, method)(path, body, format="json", headers=bearer(user))

    assert response.status_code == 403
    assert response.json() == {"detail": "This entity belongs to another user."}
    assert agents_double.entities() == [bobs_entity]
    history = api_client.get("/personal/entities/bobs/messages", headers=bearer(other_user))
    assert history.status_code == 200 and history.json() == []


def test_user_a_cannot_take_user_bs_name(api_client, user, bobs_entity, agents_double):
    response = api_client.post("/personal/entities", {"name": "bobs"}, format="json", headers=bearer(user))

    assert response.status_code == 409
    assert response.json() == {"detail": "An entity named 'bobs' already exists."}
    assert agents_double.entities() == [bobs_entity]


def test_user_a_does_not_see_user_bs_entities_in_the_list(api_client, user, bobs_entity, agents_double):
    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == []


def _foreign(name: str, owner: str = "00000000-0000-0000-0000-0000000000bb") -> dict:
    return {"name": name, "status": "active", "owner_user_id": owner, "display_name": "", "description": ""}


@pytest.mark.parametrize(
    ("method", "path", "upstream_call"),
    [
        ("get", "/personal/entities/x", "^GET /entities/x$"),
        ("patch", "/personal/entities/x", "^PATCH /entities/x$"),
        ("post", "/personal/entities/x/pause", "^POST /entities/x/pause$"),
        ("post", "/personal/entities/x/resume", "^POST /entities/x/resume$"),
    ],
)
def test_an_entity_upstream_hands_back_with_another_owner_is_403_and_logged(
    api_client, user, agents_double, caplog, method, path, upstream_call
):
    agents_double.switch(
        fault="canned", fault_status=200, fault_match=upstream_call, fault_body=json.dumps(_foreign("x"))
    )

    with caplog.at_level(logging.WARNING, logger="personal.services"):
        response = getattr(api_client, method)(path, {"description": "d"}, format="json", headers=bearer(user))

    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert "owner_user_id" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "personal.services"]
    assert record.levelno == logging.WARNING
    assert "'x'" in record.getMessage() and str(user.pk) in record.getMessage()
    assert "test-agents-key" not in caplog.text


def test_a_create_upstream_answers_with_another_owner_is_403(api_client, user, agents_double):
    agents_double.switch(
        fault="canned", fault_status=201, fault_match="^POST /entities$", fault_body=json.dumps(_foreign("x"))
    )

    response = api_client.post("/personal/entities", {"name": "x"}, format="json", headers=bearer(user))

    assert response.status_code == 403


def test_an_entity_without_an_owner_is_treated_as_someone_elses(api_client, user, agents_double):
    agents_double.switch(fault="canned", fault_status=200, fault_body=json.dumps({"name": "x", "status": "active"}))

    response = api_client.get("/personal/entities/x", headers=bearer(user))

    assert response.status_code == 403


def test_foreign_entities_are_dropped_from_a_list_and_logged(api_client, user, agents_double, caplog):
    mine = {**_foreign("mine"), "owner_user_id": str(user.pk)}
    agents_double.switch(
        fault="canned",
        fault_status=200,
        fault_match="^GET /entities$",
        fault_body=json.dumps([_foreign("theirs"), mine, _foreign("other", owner="someone")]),
    )

    with caplog.at_level(logging.WARNING, logger="personal.services"):
        response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == [mine]
    warnings = [r.getMessage() for r in caplog.records if r.name == "personal.services"]
    assert len(warnings) == 2 and "'theirs'" in warnings[0] and "'other'" in warnings[1]
