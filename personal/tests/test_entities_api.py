"""The nine /personal/entities routes, end to end: wisdom in-process, the agents double over real HTTP."""

import json

import pytest

from tests.helpers.auth import bearer, on_behalf_of
from tests.helpers.constants import AGENTS_API_KEY, UPSTREAM_HEADERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", {"name": "ada", "display_name": "Ada"}, format="json", headers=bearer(user)
    )
    assert response.status_code == 201
    agents_double.clear_received()
    return response.json()


def test_create_answers_201_with_upstreams_object_after_counting(api_client, user, agents_double):
    body = {"name": "ada", "display_name": "Ada", "description": "Reads with me."}

    response = api_client.post("/personal/entities", body, format="json", headers=bearer(user))

    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "ada" and created["status"] == "active"
    assert created["owner_user_id"] == str(user.pk)
    assert created["display_name"] == "Ada" and created["description"] == "Reads with me."
    calls = agents_double.received()
    assert [(c["method"], c["path"]) for c in calls] == [("GET", "/entities"), ("POST", "/entities")]
    assert json.loads(calls[1]["body"]) == body
    assert agents_double.entities() == [created]


def test_create_refuses_an_unknown_field_itself_and_never_asks_upstream(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", {"name": "ada", "mood": "sunny"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "mood: Unknown field.", "errors": {"mood": ["Unknown field."]}}
    assert agents_double.received() == []
    assert agents_double.entities() == []


def test_list_answers_the_callers_entities(api_client, user, ada, agents_double):
    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == [ada]
    assert [(c["method"], c["path"]) for c in agents_double.received()] == [("GET", "/entities")]


def test_list_of_a_user_without_entities_is_an_empty_array(api_client, user, agents_double):
    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == []


def test_retrieve_answers_the_entity(api_client, user, ada, agents_double):
    response = api_client.get("/personal/entities/ada", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == ada


def test_retrieve_of_an_unknown_name_is_upstreams_404(api_client, user, agents_double):
    response = api_client.get("/personal/entities/nobody", headers=bearer(user))

    assert response.status_code == 404
    assert response.json() == {"detail": "Entity not found."}


def test_patch_changes_the_entity_upstream(api_client, user, ada, agents_double):
    response = api_client.patch(
        "/personal/entities/ada", {"description": "Knows my plans."}, format="json", headers=bearer(user)
    )

    assert response.status_code == 200
    assert response.json()["description"] == "Knows my plans."
    assert agents_double.entities()[0]["description"] == "Knows my plans."
    call = agents_double.received()[0]
    assert (call["method"], call["path"], call["body"]) == (
        "PATCH",
        "/entities/ada",
        '{"description": "Knows my plans."}',
    )


def test_patch_with_an_empty_object_is_400_and_never_reaches_upstream(api_client, user, ada, agents_double):
    response = api_client.patch("/personal/entities/ada", {}, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert response.json()["detail"] == "No fields to update"
    assert agents_double.received() == []


def test_delete_answers_204_and_the_entity_is_gone_upstream(api_client, user, ada, agents_double):
    response = api_client.delete("/personal/entities/ada", headers=bearer(user))

    assert response.status_code == 204
    assert response.content == b""
    assert agents_double.entities() == []


def test_pause_and_resume_change_the_status(api_client, user, ada, agents_double):
    paused = api_client.post("/personal/entities/ada/pause", headers=bearer(user))
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert agents_double.entities()[0]["status"] == "paused"

    resumed = api_client.post("/personal/entities/ada/resume", headers=bearer(user))
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert agents_double.entities()[0]["status"] == "active"
    calls = agents_double.received()
    assert [(c["method"], c["path"], c["body"]) for c in calls] == [
        ("POST", "/entities/ada/pause", ""),
        ("POST", "/entities/ada/resume", ""),
    ]


def test_sending_a_message_answers_201_with_message_id_and_reply(api_client, user, ada, agents_double):
    response = api_client.post(
        "/personal/entities/ada/messages", {"content": "hello"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 201
    assert set(response.json()) == {"message_id", "reply"}
    assert response.json()["reply"] == "You said: hello"
    call = agents_double.received()[0]
    assert (call["method"], call["path"], call["body"]) == ("POST", "/entities/ada/chat", '{"content": "hello"}')


def test_chatting_with_a_paused_entity_is_upstreams_409(api_client, user, ada, agents_double):
    api_client.post("/personal/entities/ada/pause", headers=bearer(user))

    response = api_client.post(
        "/personal/entities/ada/messages", {"content": "hello"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 409
    assert response.json() == {"detail": "Entity is paused."}


def test_history_pages_back_with_limit_and_before(api_client, user, ada, agents_double):
    for word in ("one", "two", "three"):
        api_client.post("/personal/entities/ada/messages", {"content": word}, format="json", headers=bearer(user))
    agents_double.clear_received()

    latest = api_client.get("/personal/entities/ada/messages?limit=2", headers=bearer(user))
    assert latest.status_code == 200
    assert [m["content"] for m in latest.json()] == ["three", "You said: three"]

    older = api_client.get(
        f"/personal/entities/ada/messages?limit=3&before={latest.json()[0]['id']}", headers=bearer(user)
    )
    assert older.status_code == 200
    assert [(m["role"], m["content"]) for m in older.json()] == [
        ("assistant", "You said: one"),
        ("user", "two"),
        ("assistant", "You said: two"),
    ]
    paths = [c["path"] for c in agents_double.received()]
    assert paths == ["/entities/ada/chat?limit=2", f"/entities/ada/chat?limit=3&before={latest.json()[0]['id']}"]


def test_history_defaults_to_50_and_sends_before_only_when_given(api_client, user, ada, agents_double):
    assert api_client.get("/personal/entities/ada/messages", headers=bearer(user)).json() == []
    assert api_client.get("/personal/entities/ada/messages?before=", headers=bearer(user)).status_code == 200

    assert [c["path"] for c in agents_double.received()] == ["/entities/ada/chat?limit=50"] * 2


def test_an_unknown_cursor_is_upstreams_422(api_client, user, ada, agents_double):
    response = api_client.get("/personal/entities/ada/messages?before=nope", headers=bearer(user))

    assert response.status_code == 422
    assert response.json() == {"detail": "before: unknown cursor"}


def test_upstream_gets_exactly_key_user_request_id_and_json_never_the_clients_headers(
    api_client, user, other_user, agents_double
):
    response = api_client.post(
        "/personal/entities",
        {"name": "ada"},
        format="json",
        headers={
            **bearer(user),
            "X-User-Id": str(other_user.pk),
            "X-API-Key": "client-chosen-key",
            "Cookie": "sessionid=abc",
            "X-Request-ID": "trace-123",
        },
    )

    assert response.status_code == 201
    for call in agents_double.received():
        headers = {k.lower(): v for k, v in call["headers"].items()}
        assert headers["x-api-key"] == AGENTS_API_KEY
        assert headers["x-user-id"] == str(user.pk)
        assert headers["x-request-id"] == "trace-123" == response["X-Request-ID"]
        assert headers["accept"] == "application/json"
        assert "authorization" not in headers and "cookie" not in headers
        assert set(headers) <= UPSTREAM_HEADERS
    post = agents_double.received()[1]
    assert post["headers"]["Content-Type"] == "application/json"


def test_a_fresh_request_id_reaches_upstream_when_the_client_sends_none(api_client, user, agents_double):
    response = api_client.get("/personal/entities", headers=bearer(user))

    assert agents_double.received()[0]["headers"]["X-Request-ID"] == response["X-Request-ID"]
    assert len(response["X-Request-ID"]) == 32


def test_a_service_acting_for_a_user_reaches_upstream_as_that_user(api_client, user, agents_double):
    response = api_client.get("/personal/entities", headers=on_behalf_of(user))

    assert response.status_code == 200
    assert agents_double.received()[0]["headers"]["X-User-Id"] == str(user.pk)


def test_a_name_goes_upstream_as_one_percent_encoded_segment(api_client, user, agents_double):
    name = "my agent?#%&;é"
    created = api_client.post("/personal/entities", {"name": name}, format="json", headers=bearer(user))
    assert created.status_code == 201
    agents_double.clear_received()

    response = api_client.get("/personal/entities/my%20agent%3F%23%25%26%3B%C3%A9", headers=bearer(user))

    assert response.status_code == 200
    assert response.json()["name"] == name
    assert agents_double.received()[0]["path"] == "/entities/my%20agent%3F%23%25%26%3B%C3%A9"


def test_one_trailing_slash_is_tolerated(api_client, user, ada, agents_double):
    assert api_client.get("/personal/entities/", headers=bearer(user)).status_code == 200
    assert api_client.get("/personal/entities/ada/", headers=bearer(user)).json() == ada


def test_every_answer_carries_exactly_the_documented_fields_when_upstream_adds_others(
    api_client, user, ada, agents_double
):
    user.plan = "pro"  # room for a second entity
    user.save(update_fields=["plan"])
    agents_double.switch(extra_fields={"system_prompt": "You are Ada. Internal.", "cost_usd": 0.0123})
    assert "system_prompt" in agents_double.seed_entity(name="probe", owner_id="someone-else").json()
    headers = bearer(user)
    entity_fields = {"name", "display_name", "description", "status", "owner_user_id", "created_at", "updated_at"}

    created = api_client.post("/personal/entities", {"name": "bea"}, format="json", headers=headers)
    listed = api_client.get("/personal/entities", headers=headers)
    one = api_client.get("/personal/entities/ada", headers=headers)
    paused = api_client.post("/personal/entities/ada/pause", headers=headers)
    resumed = api_client.post("/personal/entities/ada/resume", headers=headers)
    patched = api_client.patch("/personal/entities/ada", {"description": "x"}, format="json", headers=headers)
    reply = api_client.post("/personal/entities/ada/messages", {"content": "hi"}, format="json", headers=headers)
    history = api_client.get("/personal/entities/ada/messages", headers=headers)

    for response in (created, one, paused, resumed, patched):
        assert set(response.json()) == entity_fields, response.json()
    assert [set(entity) for entity in listed.json()] == [entity_fields] * 2
    assert set(reply.json()) == {"message_id", "reply"}
    assert [set(message) for message in history.json()] == [{"id", "role", "content", "created_at"}] * 2
    assert all("Internal" not in r.content.decode() for r in (created, listed, one, reply, history))
