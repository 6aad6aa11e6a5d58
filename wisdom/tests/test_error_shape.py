"""Every 400, from any app's route or from the middleware, has one shape: {"detail", "errors": {field: [..]}}."""

import pytest
import yaml

from invites.tests.factories import InviteFactory
from tests.helpers.auth import bearer
from tests.helpers.processes import ROOT

pytestmark = pytest.mark.django_db


def _assert_one_shape(response) -> dict:
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["errors"] and all(
        isinstance(field, str) and messages and all(isinstance(m, str) for m in messages)
        for field, messages in body["errors"].items()
    )
    assert "__all__" not in body["errors"]
    return body


def test_an_accounts_400_names_the_field(api_client):
    body = _assert_one_shape(api_client.post("/auth/login", {"email": 5, "password": "x"}, format="json"))

    assert body == {"detail": "email: Not a valid string.", "errors": {"email": ["Not a valid string."]}}


def test_a_personal_400_names_the_field(api_client, user):
    response = api_client.post("/personal/entities", {"name": ".."}, format="json", headers=bearer(user))

    body = _assert_one_shape(response)
    assert body["errors"] == {"name": ["Entity name must not be '.' or '..'."]}


def test_an_invites_400_from_a_service_rule_has_the_same_shape(api_client):
    invite = InviteFactory(email="")

    response = api_client.post(
        f"/invites/{invite.token}/redeem",
        {"password": "a-long-and-unusual-passphrase", "first_name": "N"},
        format="json",
    )

    body = _assert_one_shape(response)
    assert body == {
        "detail": "email: Email is required to create your account.",
        "errors": {"email": ["Email is required to create your account."]},
    }


def test_a_model_rule_across_fields_is_a_non_field_error_never_all(api_client, staff_user):
    # Invite.clean and invite_create raise Django's ValidationError; it answers like a serializer's.
    response = api_client.post("/invites", {"max_uses": 0}, format="json", headers=bearer(staff_user))

    body = _assert_one_shape(response)
    assert list(body["errors"]) == ["max_uses"]


def test_a_body_that_is_not_json_is_a_non_field_error(api_client, user):
    response = api_client.post("/auth/login", data=b"{nope", content_type="application/json")

    body = _assert_one_shape(response)
    assert list(body["errors"]) == ["non_field_errors"]


def test_a_middleware_400_has_the_same_shape(api_client):
    response = api_client.post("/auth/login", data=b"{}", content_type="application/json", CONTENT_LENGTH="abc")

    _assert_one_shape(response)


def test_the_schema_documents_every_400_with_the_one_shape():
    schema = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    shape = schema["components"]["schemas"]["ValidationError"]
    refs = {
        f"{method.upper()} {path}": response["content"]["application/json"]["schema"].get("$ref")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status == "400"
    }

    assert set(shape["required"]) == {"detail", "errors"}
    assert shape["properties"]["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert len(refs) > 10 and set(refs.values()) == {"#/components/schemas/ValidationError"}
