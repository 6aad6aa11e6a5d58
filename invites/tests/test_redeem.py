import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError

from accounts.models import User
from accounts.tests.factories import UserFactory
from invites import services
from invites.models import Invite, InviteRedemption
from invites.tests.factories import InviteFactory
from tests.helpers.bodies import bad_request
from tests.helpers.constants import PASSWORD

pytestmark = pytest.mark.django_db


def redeem(client, invite, **body):
    payload = {"password": PASSWORD, "first_name": "Nia", **body}
    return client.post(f"/invites/{invite.token}/redeem", payload, format="json")


def assert_nothing_taken(invite, users_before):
    invite.refresh_from_db()
    assert invite.use_count == 0
    assert not InviteRedemption.objects.filter(invite=invite).exists()
    assert User.objects.count() == users_before


def test_redeem_creates_the_account_and_answers_with_login_tokens(api_client, invite):
    response = redeem(api_client, invite, last_name="Okafor")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    user = User.objects.get(email="newcomer@example.com")
    assert (user.first_name, user.last_name, user.plan, user.is_staff) == ("Nia", "Okafor", "free", False)
    assert user.check_password(PASSWORD)
    invite.refresh_from_db()
    assert invite.use_count == 1
    redemption = InviteRedemption.objects.get(invite=invite)
    assert (redemption.user, redemption.email) == (user, "newcomer@example.com")


def test_the_returned_access_token_reaches_me(api_client, invite):
    tokens = redeem(api_client, invite).json()

    me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")

    assert me.status_code == 200 and me.json()["email"] == "newcomer@example.com"


def test_the_returned_refresh_token_works(api_client, invite):
    tokens = redeem(api_client, invite).json()

    refreshed = api_client.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")

    assert refreshed.status_code == 200


def test_the_bodys_email_wins_over_the_invites(api_client, invite):
    response = redeem(api_client, invite, email="Someone.Else@Example.com")

    assert response.status_code == 201
    assert User.objects.filter(email="Someone.Else@example.com").exists()
    assert not User.objects.filter(email="newcomer@example.com").exists()


@pytest.mark.parametrize("field, value", [("first_name", 0), ("last_name", 1), ("password", 12345678), ("email", 7)])
def test_a_field_that_is_not_a_string_is_400_and_costs_nothing(api_client, invite, field, value):
    users_before = User.objects.count()

    response = redeem(api_client, invite, **{field: value})  # DRF alone would read 0 as "0"

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert_nothing_taken(invite, users_before)


def test_without_any_email_it_is_400_and_costs_nothing(api_client):
    invite = InviteFactory(email="")
    users_before = User.objects.count()

    response = redeem(api_client, invite)

    assert response.status_code == 400
    assert response.json() == bad_request("Email is required to create your account.", field="email")
    assert_nothing_taken(invite, users_before)


@pytest.mark.parametrize("email", ["newcomer@example.com", "NewComer@EXAMPLE.com"])
def test_an_email_that_has_an_account_in_any_case_is_409_and_costs_nothing(api_client, invite, email):
    UserFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = redeem(api_client, invite, email=email)

    assert response.status_code == 409
    assert response.json() == {"detail": "An account with this email already exists."}
    assert_nothing_taken(invite, users_before)


def test_a_taken_email_with_a_weak_password_is_400_about_the_password_not_409(api_client, invite):
    """The email check comes last: a token holder learns nothing about accounts from an attempt that fails anyway."""
    UserFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = redeem(api_client, invite, password="short1")

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == ["password"]
    assert "This password is too short. It must contain at least 8 characters." in body["errors"]["password"]
    assert_nothing_taken(invite, users_before)


def test_a_taken_email_with_an_invalid_name_is_400_about_the_name_not_409(api_client, invite):
    UserFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = redeem(api_client, invite, first_name="")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["first_name"]
    assert_nothing_taken(invite, users_before)


def test_the_service_checks_the_password_before_whether_the_email_is_taken(invite):
    UserFactory(email="newcomer@example.com")

    with pytest.raises(DjangoValidationError) as caught:
        services.invite_redeem(token=invite.token, password="short1", first_name="Nia")

    assert list(caught.value.message_dict) == ["password"]


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("83726451093", "This password is entirely numeric."),
        ("newcomer1", "The password is too similar to the email address."),
    ],
)
def test_a_password_the_validators_refuse_is_400_with_the_reasons(api_client, invite, password, reason):
    users_before = User.objects.count()

    response = redeem(api_client, invite, password=password)

    assert response.status_code == 400
    body = response.json()
    assert reason in body["errors"]["password"]
    assert body["detail"].startswith("password: ")
    assert password not in str(body)
    assert_nothing_taken(invite, users_before)


def test_a_password_too_similar_to_the_first_name_is_refused(api_client, invite):
    response = redeem(api_client, invite, first_name="Maximiliana", password="maximiliana")

    assert response.status_code == 400
    assert "The password is too similar to the first name." in response.json()["errors"]["password"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 65}, "first_name"),
        ({"last_name": "x" * 65}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"password": ""}, "password"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(api_client, invite, body, field):
    users_before = User.objects.count()

    response = redeem(api_client, invite, **body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"].startswith(f"{field}: ")
    assert_nothing_taken(invite, users_before)


def test_missing_first_name_is_400(api_client, invite):
    response = api_client.post(f"/invites/{invite.token}/redeem", {"password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["first_name"] == ["This field is required."]


def test_first_and_last_name_at_their_longest_are_accepted(api_client, invite):
    response = redeem(api_client, invite, first_name="F" * 64, last_name="L" * 64)

    assert response.status_code == 201


def test_a_body_that_is_not_json_is_400(api_client, invite):
    response = api_client.post(f"/invites/{invite.token}/redeem", "{nope", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_unknown_token_is_404(api_client):
    response = api_client.post("/invites/nope/redeem", {"password": PASSWORD, "first_name": "N"}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invite not found."}


@pytest.mark.parametrize(
    "fields, detail",
    [
        ({"expired": True}, "This invite has expired."),
        ({"used_up": True, "max_uses": 2}, "This invite has been used up."),
        ({"revoked": True}, "This invite has been revoked."),
    ],
)
def test_a_spent_invite_is_410_and_makes_no_account(api_client, fields, detail):
    invite = InviteFactory(email="late@example.com", **fields)
    use_count_before, users_before = invite.use_count, User.objects.count()

    response = redeem(api_client, invite)

    assert response.status_code == 410
    assert response.json()["detail"] == detail
    invite.refresh_from_db()
    assert invite.use_count == use_count_before
    assert User.objects.count() == users_before


def test_second_redeem_of_a_single_use_invite_is_gone(api_client, invite):
    assert redeem(api_client, invite).status_code == 201

    second = redeem(api_client, invite, email="second@example.com")

    assert second.status_code == 410
    assert second.json()["detail"] == "This invite has been used up."
    assert not User.objects.filter(email="second@example.com").exists()
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_a_multi_use_invite_opens_exactly_max_uses_times_and_records_each(api_client):
    invite = InviteFactory(max_uses=3)

    statuses = [redeem(api_client, invite, email=f"n{i}@example.com").status_code for i in range(4)]

    assert statuses == [201, 201, 201, 410]
    invite.refresh_from_db()
    assert invite.use_count == 3
    emails = list(invite.redemptions.values_list("email", flat=True))
    assert emails == ["n0@example.com", "n1@example.com", "n2@example.com"]
    assert all(r.user is not None for r in invite.redemptions.all())


def test_a_failure_after_the_use_is_taken_gives_the_use_back(invite, monkeypatch):
    """If creating the redemption fails, the whole transaction rolls back: no use, no user."""

    def broken_create(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(InviteRedemption.objects, "create", broken_create)
    users_before = User.objects.count()

    with pytest.raises(RuntimeError):
        services.invite_redeem(token=invite.token, password=PASSWORD, first_name="Nia")

    assert_nothing_taken(invite, users_before)


def test_an_account_made_meanwhile_with_the_same_email_is_409_and_gives_the_use_back(api_client, invite, monkeypatch):
    """The race the pre-check cannot see: the unique Lower(email) constraint decides, the use is rolled back."""
    import invites.services as invite_services

    UserFactory(email="NEWCOMER@example.com")  # the rival, committed after our pre-check looked
    real_check = invite_services.user_email_taken
    checks = []

    def pre_check_misses_the_rival(*, email):
        checks.append(email)
        return False if len(checks) == 1 else real_check(email=email)

    monkeypatch.setattr(invite_services, "user_email_taken", pre_check_misses_the_rival)
    users_before = User.objects.count()

    response = redeem(api_client, invite)

    assert response.status_code == 409
    assert response.json() == {"detail": "An account with this email already exists."}
    assert_nothing_taken(invite, users_before)


def test_an_unrelated_integrity_error_is_not_reported_as_email_taken(invite, monkeypatch):
    def broken_create(**kwargs):
        raise IntegrityError("something else")

    monkeypatch.setattr(InviteRedemption.objects, "create", broken_create)

    with pytest.raises(IntegrityError):
        services.invite_redeem(token=invite.token, password=PASSWORD, first_name="Nia")
    assert Invite.objects.get(pk=invite.pk).use_count == 0
