"""Every route that takes a body answers a field it does not document with 400 and `errors`, before it acts:
nothing reaches the agents service, the database or the outbox. The routes come from openapi.yaml, so a new
route with a body is covered (or this fails) by construction."""

import json

import pytest
import yaml
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from post_office.models import Email

from accounts.models import ApiKey, User
from accounts.services import tokens_for
from invites.models import Invite
from invites.tests.factories import InviteFactory
from tests.helpers.auth import bearer
from tests.helpers.constants import PASSWORD
from tests.helpers.processes import ROOT
from wisdom.bodies import UNKNOWN_FIELD

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((ROOT / "openapi.yaml").read_text())
WITH_A_BODY = sorted(
    op["operationId"] for item in SCHEMA["paths"].values() for op in item.values() if op.get("requestBody")
)
OPERATIONS = {op["operationId"]: (m.upper(), p) for p, item in SCHEMA["paths"].items() for m, op in item.items()}
SMUGGLED = {"owner_user_id": "6f1c2b9e-4d3a-4b8e-9a51-0c2f7d9e1a34", "plan": "enterprise"}


def _valid_body(op: str, user, invite) -> dict:
    """A body the operation accepts as it is."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return {
        "login": {"email": user.email, "password": PASSWORD},
        "refreshTokens": {"refresh_token": tokens_for(user=user)["refresh_token"]},
        "logout": {"refresh_token": tokens_for(user=user)["refresh_token"]},
        "changePassword": {"current_password": PASSWORD, "new_password": "another-unusual-passphrase"},
        "requestPasswordReset": {"email": user.email},
        "confirmPasswordReset": {
            "uid": uid,
            "token": default_token_generator.make_token(user),
            "new_password": "another-unusual-passphrase",
        },
        "updateMe": {"first_name": "Ally"},
        "deleteAccount": {"password": PASSWORD},
        "createApiKey": {"name": "laptop"},
        "createInvite": {"expires_in_days": 7},
        "redeemInvite": {"password": PASSWORD, "first_name": "Nia", "email": "nia@example.com"},
        "createEntity": {"name": "bea", "display_name": "Bea"},
        "updateEntity": {"description": "Reads with me."},
        "sendMessage": {"content": "hi"},
    }[op]


def test_every_route_with_a_body_is_covered_here():
    assert WITH_A_BODY == sorted(
        [
            "changePassword",
            "confirmPasswordReset",
            "createApiKey",
            "createEntity",
            "createInvite",
            "deleteAccount",
            "login",
            "logout",
            "redeemInvite",
            "refreshTokens",
            "requestPasswordReset",
            "sendMessage",
            "updateEntity",
            "updateMe",
        ]
    )


@pytest.mark.parametrize("op", WITH_A_BODY)
def test_an_undocumented_field_is_400_naming_it_and_nothing_is_done(api_client, user, staff_user, agents_double, op):
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.clear_received()
    invite = InviteFactory(inviter=staff_user)
    method, template = OPERATIONS[op]
    path = template.format(name="ada", token=invite.token, id=invite.id)
    headers = bearer(staff_user if op == "createInvite" else user)
    user_before = User.objects.values().get(pk=user.pk)
    counts_before = (User.objects.count(), ApiKey.objects.count(), Invite.objects.count(), Email.objects.count())

    response = api_client.generic(
        method,
        path,
        data=json.dumps({**_valid_body(op, user, invite), **SMUGGLED}),
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == 400, response.content
    body = response.json()
    refused = "This field cannot be changed here." if op == "updateMe" else UNKNOWN_FIELD
    assert body["errors"] == {"owner_user_id": [refused], "plan": [refused]}
    assert body["detail"] == f"owner_user_id: {refused}"
    assert agents_double.received() == []
    assert User.objects.values().get(pk=user.pk) == user_before
    assert (User.objects.count(), ApiKey.objects.count(), Invite.objects.count(), Email.objects.count()) == (
        counts_before
    )


def test_every_request_body_schema_says_it_takes_its_documented_fields_only():
    schemas = SCHEMA["components"]["schemas"]
    bodies = {
        op["operationId"]: schemas[op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        for item in SCHEMA["paths"].values()
        for op in item.values()
        if op.get("requestBody")
    }

    assert sorted(bodies) == WITH_A_BODY
    assert {op: body.get("additionalProperties") for op, body in bodies.items()} == dict.fromkeys(WITH_A_BODY, False)


def test_no_body_schema_is_described_by_the_code_that_checks_it():
    described = {name: s["description"] for name, s in SCHEMA["components"]["schemas"].items() if "description" in s}

    assert [name for name, text in described.items() if "mixin" in text or "serializer" in text.lower()] == []
