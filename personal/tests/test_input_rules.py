"""Who may call, and which input is refused before anything reaches the agents service."""

import json

import pytest

from tests.helpers.auth import bearer
from tests.helpers.bodies import bad_request
from tests.helpers.constants import SERVICE_KEY

pytestmark = pytest.mark.django_db

NINE_ROUTES = [
    ("get", "/personal/entities", None),
    ("post", "/personal/entities", {"name": "ada"}),
    ("get", "/personal/entities/ada", None),
    ("patch", "/personal/entities/ada", {"description": "x"}),
    ("delete", "/personal/entities/ada", None),
    ("post", "/personal/entities/ada/pause", None),
    ("post", "/personal/entities/ada/resume", None),
    ("post", "/personal/entities/ada/messages", {"content": "hi"}),
    ("get", "/personal/entities/ada/messages", None),
]


@pytest.mark.parametrize(("method", "path", "body"), NINE_ROUTES)
def test_anonymous_call_is_401_and_never_reaches_upstream(api_client, agents_double, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert agents_double.received() == []


@pytest.mark.parametrize(("method", "path", "body"), NINE_ROUTES)
def test_the_service_acting_as_itself_is_400_and_never_reaches_upstream(api_client, agents_double, method, path, body):
    response = getattr(api_client, method)(path, body, format="json", headers={"X-Service-Key": SERVICE_KEY})

    assert response.status_code == 400
    assert response.json() == bad_request("X-On-Behalf-Of header is required when X-Service-Key is set")
    assert agents_double.received() == []


BAD_NAMES = [
    ("/personal/entities/.", "Entity name must not be '.' or '..'."),
    ("/personal/entities/..", "Entity name must not be '.' or '..'."),
    ("/personal/entities/a%5Cb", "Entity name must not contain '/' or '\\'."),
    ("/personal/entities/a%00b", "Entity name must not contain control characters."),
    ("/personal/entities/a%0Ab", "Entity name must not contain control characters."),
    ("/personal/entities/a%7Fb", "Entity name must not contain control characters."),
    ("/personal/entities/" + "n" * 256, "Entity name must be at most 255 characters."),
]


@pytest.mark.parametrize("suffix", ["", "/pause", "/resume", "/messages"])
@pytest.mark.parametrize(("path", "message"), BAD_NAMES)
def test_a_bad_name_is_400_and_never_sent(api_client, user, agents_double, path, message, suffix):
    method = api_client.get if suffix in ("", "/messages") else api_client.post

    response = method(path + suffix, headers=bearer(user))

    assert response.status_code == 400
    assert response.json()["detail"] == f"name: {message}"
    assert agents_double.received() == []


def test_a_name_of_exactly_255_characters_is_sent(api_client, user, agents_double):
    response = api_client.get("/personal/entities/" + "n" * 255, headers=bearer(user))

    assert response.status_code == 404  # upstream's answer: it was asked
    assert agents_double.received()[0]["path"] == "/entities/" + "n" * 255


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/personal/entities/a/pause", "/personal/entities/a%2Fpause"),
        ("/personal/entities/a/", "/personal/entities/a%2f"),
        ("/personal/entities/a/b", "/personal/entities/a%2Fb"),
        ("/personal/entities/a/b/c", "/personal/entities/a%2Fb%2Fc?x=1"),
    ],
)
def test_an_encoded_slash_seen_in_the_raw_path_is_400_and_never_sent(api_client, user, agents_double, path, raw):
    # gunicorn passes the path as sent in RAW_URI; tests/test_live_personal.py checks this over real HTTP
    response = api_client.post(path, headers=bearer(user), RAW_URI=raw)

    assert response.status_code == 400
    assert response.json()["detail"] == "name: Entity name must not contain '/' (%2F)."
    assert agents_double.received() == []


def test_a_path_deeper_than_any_route_is_a_404(api_client, user, agents_double):
    response = api_client.get("/personal/entities/a/b", headers=bearer(user))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert agents_double.received() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/personal/entities"), ("patch", "/personal/entities/ada"), ("post", "/personal/entities/ada/messages")],
)
@pytest.mark.parametrize("body", [[], ["name"], "ada", 5, None, True])
def test_a_body_that_is_not_a_json_object_is_400_and_never_sent(api_client, user, agents_double, method, path, body):
    raw = json.dumps(body).encode()

    response = getattr(api_client, method)(path, raw, content_type="application/json", headers=bearer(user))

    assert response.status_code == 400
    assert response.json()["detail"] == "Request body must be a JSON object."
    assert agents_double.received() == []


def test_malformed_json_is_400_and_never_sent(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", b'{"name": ', content_type="application/json", headers=bearer(user)
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert agents_double.received() == []


def test_a_body_that_is_not_json_at_all_is_415_and_never_sent(api_client, user, agents_double):
    response = api_client.post("/personal/entities", b"name=ada", content_type="text/plain", headers=bearer(user))

    assert response.status_code == 415
    assert agents_double.received() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "name"), ({"name": 5}, "name"), ({"name": ""}, "name"), ({"name": "a/b"}, "name"), ({"name": ".."}, "name")],
)
def test_a_create_without_a_usable_name_is_400_and_never_sent(api_client, user, agents_double, body, field):
    response = api_client.post("/personal/entities", body, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert agents_double.received() == []


@pytest.mark.parametrize("content", ["", None, 5, ["hi"], "x" * 65_537])
def test_message_content_must_be_a_string_of_1_to_65536_characters(api_client, user, agents_double, content):
    body = {} if content is None else {"content": content}

    response = api_client.post("/personal/entities/ada/messages", body, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["content"]
    assert agents_double.received() == []


def test_message_content_of_65536_characters_and_only_content_is_sent(api_client, user, agents_double):
    api_client.post("/personal/entities", {"name": "ada"}, format="json", headers=bearer(user))
    agents_double.clear_received()

    response = api_client.post(
        "/personal/entities/ada/messages", {"content": "x" * 65_536}, format="json", headers=bearer(user)
    )

    assert response.status_code == 201
    assert agents_double.received()[0]["body"] == '{"content": "' + "x" * 65_536 + '"}'


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=-1", "limit=abc", "limit=1.5"])
def test_history_limit_must_be_an_integer_from_1_to_200(api_client, user, agents_double, query):
    response = api_client.get(f"/personal/entities/ada/messages?{query}", headers=bearer(user))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["limit"]
    assert agents_double.received() == []


def test_an_empty_limit_means_the_default(api_client, user, agents_double):
    api_client.get("/personal/entities/ada/messages?limit=", headers=bearer(user))

    assert agents_double.received()[0]["path"] == "/entities/ada/chat?limit=50"


def test_history_cursor_is_passed_through_encoded(api_client, user, agents_double):
    api_client.get("/personal/entities/ada/messages?limit=200&before=a%20b%26c%3Dd", headers=bearer(user))

    assert agents_double.received()[0]["path"] == "/entities/ada/chat?limit=200&before=a+b%26c%3Dd"


@pytest.mark.parametrize("cursor", ["x" * 513, "caf%C3%A9", "tab%09"])
def test_history_cursor_is_printable_ascii_of_at_most_512_characters(api_client, user, agents_double, cursor):
    response = api_client.get(f"/personal/entities/ada/messages?before={cursor}", headers=bearer(user))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["before"]
    assert agents_double.received() == []


def test_a_cursor_ending_in_a_newline_is_400_and_never_sent(api_client, user, agents_double):
    response = api_client.get("/personal/entities/ada/messages?before=abc%0A", headers=bearer(user))

    assert response.status_code == 400
    assert response.json()["errors"] == {"before": ["The cursor must be printable ASCII."]}
    assert agents_double.received() == []


SMUGGLED = {"owner_user_id": "6f1c2b9e-4d3a-4b8e-9a51-0c2f7d9e1a34", "plan": "enterprise"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/personal/entities", {"name": "ada"}),
        ("patch", "/personal/entities/ada", {"description": "x"}),
        ("post", "/personal/entities/ada/messages", {"content": "hi"}),
    ],
)
def test_an_undocumented_field_is_our_400_with_errors_and_never_sent(
    api_client, user, agents_double, method, path, body
):
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.clear_received()

    response = getattr(api_client, method)(path, {**body, **SMUGGLED}, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "owner_user_id: Unknown field.",
        "errors": {"owner_user_id": ["Unknown field."], "plan": ["Unknown field."]},
    }
    assert agents_double.received() == []
    assert [(e["name"], e["status"]) for e in agents_double.entities()] == [("ada", "active")]


def test_an_undocumented_field_is_reported_with_the_other_fields_errors(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", {"name": "a/b", "plan": "pro"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "name": ["Entity name must not contain '/' or '\\'."],
        "plan": ["Unknown field."],
    }
    assert agents_double.received() == []


def test_create_sends_upstream_exactly_the_documented_fields_given(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", {"description": "d", "name": "ada"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 201
    [create] = [c for c in agents_double.received() if c["method"] == "POST"]
    assert json.loads(create["body"]) == {"name": "ada", "description": "d"}


def test_update_sends_upstream_exactly_the_documented_fields_given(api_client, user, agents_double):
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.clear_received()

    response = api_client.patch("/personal/entities/ada", {"display_name": "Ada"}, format="json", headers=bearer(user))

    assert response.status_code == 200
    [update] = agents_double.received()
    assert (update["method"], json.loads(update["body"])) == ("PATCH", {"display_name": "Ada"})
