import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from invites.models import Invite
from invites.tests.factories import InviteFactory, InviteRedemptionFactory
from tests.helpers.auth import bearer, on_behalf_of
from tests.helpers.bodies import bad_request

pytestmark = pytest.mark.django_db

INVITE_KEYS = {
    "id",
    "token",
    "url",
    "email",
    "note",
    "expires_at",
    "max_uses",
    "use_count",
    "status",
    "inviter_name",
    "created_at",
    "revoked_at",
    "last_sent_at",
}


# --- who may call ---------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("get", "/invites"), ("post", "/invites")])
def test_anonymous_callers_are_401(api_client, method, path):
    response = getattr(api_client, method)(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_user_who_is_not_staff_is_403_and_creates_nothing(user_client):
    response = user_client.post("/invites", {"note": "sneaky"}, format="json")

    assert response.status_code == 403
    assert not Invite.objects.exists()


def test_a_service_acting_for_a_user_who_is_not_staff_is_403(api_client, user):
    assert api_client.get("/invites", headers=on_behalf_of(user)).status_code == 403


def test_a_service_acting_for_staff_is_allowed_and_records_them_as_inviter(api_client, staff_user):
    response = api_client.post("/invites", {"note": "delegated"}, format="json", headers=on_behalf_of(staff_user))

    assert response.status_code == 201
    assert Invite.objects.get().inviter == staff_user


def test_a_wrong_service_key_is_401(api_client):
    assert api_client.get("/invites", headers={"X-Service-Key": "wrong"}).status_code == 401


# --- create ---------------------------------------------------------------------------------


def test_staff_creates_an_invite_and_gets_its_share_url(staff_client, staff_user, settings):
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    response = staff_client.post(
        "/invites", {"email": "new@example.com", "note": "cohort 3", "expires_in_days": 7, "max_uses": 5}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == INVITE_KEYS
    invite = Invite.objects.get()
    assert body["id"] == str(invite.id) and body["token"] == invite.token
    assert body["url"] == f"https://app.example.com/personal/invite?token={invite.token}"
    assert (body["email"], body["note"], body["max_uses"], body["use_count"]) == ("new@example.com", "cohort 3", 5, 0)
    assert (body["status"], body["inviter_name"], body["revoked_at"]) == ("active", "Stella", None)
    expires_at = parse_datetime(body["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert parse_datetime(body["created_at"]) == invite.created_at
    assert invite.inviter == staff_user


def test_the_service_itself_creates_an_invite_with_no_inviter_and_defaults(service_client, settings):
    settings.FRONTEND_BASE_URL = ""
    settings.BASE_URL = "http://api.example.com"

    response = service_client.post("/invites", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["inviter_name"] is None and body["email"] is None and body["note"] is None
    assert (body["max_uses"], body["expires_at"], body["status"]) == (1, None, "active")
    assert body["url"].startswith("http://api.example.com/personal/invite?token=")
    assert Invite.objects.get().inviter is None


def test_an_explicit_expiry_is_kept(service_client):
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)

    response = service_client.post("/invites", {"expires_at": when.isoformat()}, format="json")

    assert response.status_code == 201
    assert Invite.objects.get().expires_at == when


@pytest.mark.parametrize(
    "body, field",
    [
        ({"expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 3651}, "expires_in_days"),
        ({"expires_at": "2999-01-01T00:00:00Z", "expires_in_days": 3}, "expires_at"),
        ({"max_uses": 0}, "max_uses"),
        ({"max_uses": 10_001}, "max_uses"),
        ({"max_uses": "many"}, "max_uses"),
        ({"email": "nope"}, "email"),
        ({"note": "x" * 256}, "note"),
        # the schema's types, not DRF's coercions: found by tests/test_fuzz.py
        ({"note": 0}, "note"),
        ({"email": 5}, "email"),
        ({"max_uses": "3"}, "max_uses"),
        ({"max_uses": 2.0}, "max_uses"),
        ({"expires_in_days": True}, "expires_in_days"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_creates_nothing(service_client, body, field):
    response = service_client.post("/invites", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(f"{field}: ")
    assert not Invite.objects.exists()


def test_an_expiry_in_the_past_says_so(service_client):
    response = service_client.post("/invites", {"expires_at": "2000-01-01T00:00:00Z"}, format="json")

    assert response.json()["detail"] == "expires_at: The expiry must be in the future."


def test_an_expiry_beyond_the_maximum_is_400_naming_the_maximum_and_creates_nothing(service_client):
    response = service_client.post("/invites", {"expires_at": "9999-12-31T00:00:00Z"}, format="json")

    assert response.status_code == 400
    assert response.json() == bad_request("The expiry must be at most 3650 days from now.", field="expires_at")
    assert not Invite.objects.exists()


def test_an_expiry_just_inside_the_maximum_is_accepted(service_client):
    when = (timezone.now() + timedelta(days=3650) - timedelta(minutes=5)).replace(microsecond=0)

    response = service_client.post("/invites", {"expires_at": when.isoformat()}, format="json")

    assert response.status_code == 201
    assert Invite.objects.get().expires_at == when


def test_max_uses_at_its_limits_are_accepted(service_client):
    assert service_client.post("/invites", {"max_uses": 1}, format="json").status_code == 201
    assert service_client.post("/invites", {"max_uses": 10_000}, format="json").status_code == 201


# --- list -----------------------------------------------------------------------------------


def test_list_is_paginated_newest_first_with_url_and_status(service_client):
    now = timezone.now()
    old = InviteFactory(created_at=now - timedelta(days=2))
    new = InviteFactory(created_at=now - timedelta(days=1))

    response = service_client.get("/invites")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [i["id"] for i in body["results"]] == [str(new.id), str(old.id)]
    assert set(body["results"][0]) == INVITE_KEYS
    assert body["results"][0]["url"].endswith(f"?token={new.token}")
    assert body["results"][0]["status"] == "active"


def test_list_never_shows_the_inviters_email_as_their_name(service_client):
    InviteFactory(inviter__first_name="", inviter__last_name="", inviter__email="boss@example.com")

    response = service_client.get("/invites")

    assert response.status_code == 200
    assert response.json()["results"][0]["inviter_name"] is None
    assert "boss@example.com" not in response.content.decode()


def test_list_pages_with_limit_and_offset(service_client):
    invites = [InviteFactory(created_at=timezone.now() - timedelta(minutes=i)) for i in range(5)]

    first = service_client.get("/invites", {"limit": 2}).json()
    second = service_client.get("/invites", {"limit": 2, "offset": 2}).json()

    assert first["count"] == 5 and "offset=2" in first["next"]
    assert [i["id"] for i in first["results"] + second["results"]] == [str(i.id) for i in invites[:4]]


@pytest.fixture
def assorted(db):
    return {
        "active": InviteFactory(),
        "used_once": InviteFactory(max_uses=3, use_count=1),
        "expired": InviteFactory(expired=True),
        "used_up": InviteFactory(used_up=True),
        "revoked": InviteFactory(revoked=True),
    }


def listed(client, **params) -> set[str]:
    response = client.get("/invites", params)
    assert response.status_code == 200
    return {i["id"] for i in response.json()["results"]}


def ids(assorted, *names) -> set[str]:
    return {str(assorted[n].id) for n in names}


def test_list_filters_by_status(service_client, assorted):
    assert listed(service_client, status="active") == ids(assorted, "active", "used_once")
    assert listed(service_client, status="expired") == ids(assorted, "expired")
    assert listed(service_client, status="used_up") == ids(assorted, "used_up")
    assert listed(service_client, status="revoked") == ids(assorted, "revoked")


def test_list_includes_expired_by_default_and_hides_them_on_request(service_client, assorted):
    assert listed(service_client) == ids(assorted, *assorted)
    assert listed(service_client, include_expired="false") == ids(assorted, *assorted) - ids(assorted, "expired")


def test_list_unredeemed_only_keeps_invites_never_used(service_client, assorted):
    assert listed(service_client, unredeemed_only="true") == ids(assorted, "active", "expired", "revoked")


def test_list_filters_combine(service_client, assorted):
    assert listed(service_client, status="active", unredeemed_only="true") == ids(assorted, "active")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "bogus"}, "status"),
        ({"include_expired": "maybe"}, "include_expired"),
        # DRF would read a blank value or a non-number as absent: found by tests/test_fuzz.py
        ({"status": ""}, "status"),
        ({"unredeemed_only": ""}, "unredeemed_only"),
        ({"limit": "null"}, "limit"),
        ({"offset": "null"}, "offset"),
        ({"limit": ""}, "limit"),
    ],
)
def test_list_with_a_bad_filter_is_400_naming_it(service_client, params, field):
    response = service_client.get("/invites", params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


# --- one invite -----------------------------------------------------------------------------


def test_get_one_invite_lists_its_redemptions(staff_client):
    invite = InviteFactory(max_uses=3, use_count=2)
    first = InviteRedemptionFactory(invite=invite, user__email="one@example.com")
    second = InviteRedemptionFactory(invite=invite, user__email="two@example.com")

    response = staff_client.get(f"/invites/{invite.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == INVITE_KEYS | {"redemptions"}
    assert body["use_count"] == 2
    assert [(r["user_id"], r["email"]) for r in body["redemptions"]] == [
        (str(first.user.id), "one@example.com"),
        (str(second.user.id), "two@example.com"),
    ]
    assert parse_datetime(body["redemptions"][0]["redeemed_at"]) == first.redeemed_at


def test_get_an_unknown_invite_is_404(staff_client):
    response = staff_client.get(f"/invites/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invite not found."}


def test_get_one_invite_needs_staff(user_client, api_client):
    invite = InviteFactory()

    assert user_client.get(f"/invites/{invite.id}").status_code == 403
    assert api_client.get(f"/invites/{invite.id}").status_code == 401


# --- revoke ---------------------------------------------------------------------------------


def test_delete_revokes_at_once_and_keeps_the_record(staff_client, api_client):
    invite = InviteFactory()

    response = staff_client.delete(f"/invites/{invite.id}")

    assert response.status_code == 204
    invite.refresh_from_db()
    assert invite.revoked_at is not None and invite.status == "revoked"
    assert api_client.get(f"/invites/{invite.token}/preview").status_code == 410
    assert staff_client.get(f"/invites/{invite.id}").json()["status"] == "revoked"


def test_revoking_twice_is_harmless_and_keeps_the_first_time(service_client):
    invite = InviteFactory(revoked=True)
    first_revoked_at = invite.revoked_at

    assert service_client.delete(f"/invites/{invite.id}").status_code == 204
    invite.refresh_from_db()
    assert invite.revoked_at == first_revoked_at


def test_delete_of_an_unknown_invite_is_404(service_client):
    response = service_client.delete(f"/invites/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invite not found."}


def test_delete_needs_staff(user_client, api_client):
    invite = InviteFactory()

    assert user_client.delete(f"/invites/{invite.id}").status_code == 403
    assert api_client.delete(f"/invites/{invite.id}").status_code == 401
    invite.refresh_from_db()
    assert invite.revoked_at is None


def test_a_path_that_is_not_a_uuid_is_404(service_client):
    assert service_client.get("/invites/not-a-uuid").status_code == 404


def test_bearer_of_staff_tolerates_a_trailing_slash(api_client, staff_user):
    assert api_client.get("/invites/", headers=bearer(staff_user)).status_code == 200


def test_a_malformed_on_behalf_of_is_400_on_the_admin_api(api_client):
    invite = InviteFactory()

    response = api_client.delete(
        f"/invites/{invite.id}", headers={"X-Service-Key": "test-service-key-1", "X-On-Behalf-Of": "x"}
    )

    assert response.status_code == 400
    assert Invite.objects.get(pk=invite.pk).revoked_at is None
