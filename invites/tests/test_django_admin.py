import html
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db.models import F
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from invites.models import Invite
from invites.tests.factories import InviteFactory, InviteRedemptionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/invites/invite/"


@pytest.fixture
def admin_user(db):
    """Staff with the invite permissions only (not a superuser), as the desk would be set up."""
    staff = UserFactory(email="desk@example.com", first_name="Desk", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="invites",
            codename__in=["view_invite", "add_invite", "change_invite", "view_inviteredemption"],
        )
    )
    return staff


@pytest.fixture
def desk(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_changelist_shows_email_note_status_uses_expiry_and_last_sent_and_leaves_the_rest_to_the_invite(desk):
    invite = InviteFactory(
        email="listed@example.com", note="cohort 3", max_uses=5, use_count=2, inviter__email="boss@example.com"
    )

    page = desk.get(CHANGELIST).content.decode()

    for text in ("Active", "2 / 5", "listed@example.com", "cohort 3", f"{invite.expires_at:%Y-%m-%d %H:%M}", "never"):
        assert text in page
    for column in ("column-note", "column-status_label", "column-uses", "column-expires", "column-last_sent"):
        assert column in page
    assert "boss@example.com" not in page and "column-created_at" not in page  # on the invite's own page


def test_changelist_filters_by_status(desk):
    InviteFactory(note="still-open")
    InviteFactory(note="was-revoked", revoked=True)
    InviteFactory(note="ran-out", used_up=True)

    page = desk.get(CHANGELIST, {"status": "revoked"}).content.decode()

    assert "was-revoked" in page and "still-open" not in page and "ran-out" not in page


@pytest.mark.parametrize("term", ["findme@example.com", "needle-note"])
def test_changelist_searches_email_and_note(desk, term):
    InviteFactory(email="findme@example.com", note="needle-note")
    InviteFactory(email="other@example.com", note="haystack")

    page = desk.get(CHANGELIST, {"q": term}).content.decode()

    assert "findme@example.com" in page and "haystack" not in page


def test_changelist_searches_by_exact_token(desk):
    wanted = InviteFactory(note="by-token")
    InviteFactory(note="not-this-one")

    page = desk.get(CHANGELIST, {"q": wanted.token}).content.decode()

    assert "by-token" in page and "not-this-one" not in page


def test_changelist_search_with_a_nul_byte_finds_nothing_instead_of_failing(desk):
    InviteFactory(note="plain")

    assert desk.get(CHANGELIST, {"q": "\x00"}).status_code == 200


def test_add_form_asks_for_no_token_and_records_the_staff_user_as_inviter(desk, admin_user):
    form = desk.get(f"{CHANGELIST}add/").content.decode()
    assert 'name="token"' not in form and 'name="inviter"' not in form

    response = desk.post(f"{CHANGELIST}add/", {"email": "new@example.com", "note": "from admin", "max_uses": "3"})

    assert response.status_code == 302
    invite = Invite.objects.get()
    assert (invite.inviter, invite.email, invite.max_uses, invite.use_count) == (admin_user, "new@example.com", 3, 0)
    assert len(invite.token) == 43


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"expires_at_0": "2000-01-01", "expires_at_1": "00:00:00"}, "The expiry must be in the future."),
        ({"expires_at_0": "9999-12-31", "expires_at_1": "00:00:00"}, "The expiry must be at most 3650 days from now."),
        ({"max_uses": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"max_uses": "10001"}, "Ensure this value is less than or equal to 10000."),
    ],
)
def test_add_form_refuses_bad_input_and_creates_nothing(desk, fields, error):
    response = desk.post(f"{CHANGELIST}add/", {"max_uses": "1", **fields})

    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    assert not Invite.objects.exists()


def test_change_page_shows_the_share_url_read_only_and_the_redemptions(desk, settings):
    settings.FRONTEND_BASE_URL = "https://app.example.com"
    invite = InviteFactory(max_uses=2, use_count=1)
    InviteRedemptionFactory(invite=invite, user__email="redeemer@example.com")

    page = desk.get(f"{CHANGELIST}{invite.pk}/change/").content.decode()

    url = f"https://app.example.com/personal/invite?token={invite.token}"
    assert f'id="invite-share-url" readonly size="90" value="{url}"' in page
    assert "redeemer@example.com" in page
    assert 'name="redemptions-0-email"' not in page  # shown, not editable
    assert "Delete" not in page


def test_change_form_refuses_max_uses_below_the_uses_already_made(desk):
    invite = InviteFactory(max_uses=3, use_count=2, expires_at=None)

    response = desk.post(f"{CHANGELIST}{invite.pk}/change/", {"max_uses": "1", "redemptions-TOTAL_FORMS": "0",
                                                              "redemptions-INITIAL_FORMS": "0"})  # fmt: skip

    assert response.status_code == 200
    assert "Already used 2 times; max uses cannot be lower." in html.unescape(response.content.decode())
    assert Invite.objects.get(pk=invite.pk).max_uses == 3


def test_change_form_of_an_invite_beyond_the_maximum_expiry_asks_for_one_within_it(desk):
    invite = InviteFactory(expires_at=datetime(9999, 12, 31, tzinfo=UTC), note="before")

    form = {"max_uses": "1", "note": "after", "expires_at_0": "9999-12-31", "expires_at_1": "00:00:00"}
    inline = {"redemptions-TOTAL_FORMS": "0", "redemptions-INITIAL_FORMS": "0"}

    response = desk.post(f"{CHANGELIST}{invite.pk}/change/", {**form, **inline})

    assert response.status_code == 200
    assert "The expiry must be at most 3650 days from now." in html.unescape(response.content.decode())
    assert Invite.objects.get(pk=invite.pk).note == "before"


def test_saving_the_change_form_keeps_a_use_taken_meanwhile(desk):
    invite = InviteFactory(max_uses=5, use_count=1, note="before", expires_at=None)
    original_clean = Invite.clean

    def clean_while_someone_redeems(self):
        Invite.objects.filter(pk=self.pk).update(use_count=F("use_count") + 1)  # a redeem between load and save
        original_clean(self)

    with mock.patch.object(Invite, "clean", clean_while_someone_redeems):
        response = desk.post(f"{CHANGELIST}{invite.pk}/change/", {"max_uses": "5", "note": "after",
                                                                  "redemptions-TOTAL_FORMS": "0",
                                                                  "redemptions-INITIAL_FORMS": "0"})  # fmt: skip

    assert response.status_code == 302
    invite.refresh_from_db()
    assert invite.note == "after"
    assert invite.use_count == 2


def test_revoke_action_revokes_the_selected_invites_only(desk):
    chosen, untouched = InviteFactory(), InviteFactory()

    response = desk.post(CHANGELIST, {"action": "revoke_selected", "_selected_action": [chosen.pk]}, follow=True)

    assert "Revoked 1 invite(s)." in response.content.decode()
    assert Invite.objects.get(pk=chosen.pk).status == "revoked"
    assert Invite.objects.get(pk=untouched.pk).status == "active"


def test_extend_action_adds_seven_days(desk):
    expires_at = timezone.now() + timedelta(days=1)
    invite, never = InviteFactory(expires_at=expires_at), InviteFactory(expires_at=None)

    response = desk.post(
        CHANGELIST, {"action": "extend_expiry", "_selected_action": [invite.pk, never.pk]}, follow=True
    )

    page = response.content.decode()
    assert "Extended 1 invite(s) by 7 days. 1 never expire and were left alone." in page
    assert Invite.objects.get(pk=invite.pk).expires_at == expires_at + timedelta(days=7)
    assert Invite.objects.get(pk=never.pk).expires_at is None


def test_extend_action_on_an_invite_expiring_in_year_9999_leaves_it_and_says_why(desk):
    far = datetime(9999, 12, 31, tzinfo=UTC)
    invite = InviteFactory(expires_at=far)  # straight into the table, as POST /invites once allowed

    response = desk.post(CHANGELIST, {"action": "extend_expiry", "_selected_action": [invite.pk]}, follow=True)

    assert response.status_code == 200
    assert (
        "Extended 0 invite(s) by 7 days. 1 already expire 3650 days or more from now and were left alone."
        in response.content.decode()
    )
    assert Invite.objects.get(pk=invite.pk).expires_at == far


def test_extend_action_stops_at_the_maximum_expiry_and_says_so(desk):
    near_the_maximum = InviteFactory(expires_at=timezone.now() + timedelta(days=3648))
    plain = InviteFactory(expires_at=timezone.now() + timedelta(days=1))

    response = desk.post(
        CHANGELIST, {"action": "extend_expiry", "_selected_action": [near_the_maximum.pk, plain.pk]}, follow=True
    )

    assert (
        "Extended 1 invite(s) by 7 days. 1 reached the maximum, 3650 days from now, and stop there."
        in response.content.decode()
    )
    expires_at = Invite.objects.get(pk=near_the_maximum.pk).expires_at
    assert abs(expires_at - (timezone.now() + timedelta(days=3650))) < timedelta(minutes=1)


def test_changelist_with_an_unknown_status_is_djangos_invalid_filter_redirect_not_a_500(desk):
    InviteFactory(note="listed")

    response = desk.get(CHANGELIST, {"status": "bogus"})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?e=1"
    assert "listed" in desk.get(response["Location"]).content.decode()


def test_staff_without_invite_permissions_cannot_see_invites(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(CHANGELIST).status_code == 403


def test_a_person_who_is_not_staff_is_sent_to_the_login_page(user):
    client = Client()
    client.force_login(user)

    response = client.get(CHANGELIST)

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
