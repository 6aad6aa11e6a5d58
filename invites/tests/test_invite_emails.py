"""Invites that arrive by email, against a real SMTP server: on creation (send_email), sent again
(/invites/{id}/send, throttled per invite, 409 when it opens nothing), from the admin and from create_invite."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from post_office.models import Email

from accounts.tests.factories import UserFactory
from invites.errors import EMAIL_REQUIRED_TO_SEND, NO_EMAIL_TO_SEND, NOT_SENDABLE_DETAILS
from invites.models import Invite
from invites.tests.factories import InviteFactory
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


def _send(client, invite):
    return client.post(f"/invites/{invite.pk}/send")


def test_an_invite_created_with_send_email_arrives_with_its_share_url(
    staff_client, smtp_server, send_queued_mail, settings
):
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    response = staff_client.post(
        "/invites", {"email": "newcomer@example.com", "expires_in_days": 7, "send_email": True}, format="json"
    )
    assert Email.objects.count() == 1  # queued with the invite, before any worker ran
    send_queued_mail()

    assert response.status_code == 201
    body = response.json()
    assert body["last_sent_at"] is not None
    [message] = smtp_server.wait_for(1)
    assert message.rcpt_tos == ["newcomer@example.com"]
    assert message.message["Subject"] == "Stella invited you to Intuno Personal"
    assert body["url"] in message.links()
    assert body["url"] in message.html
    invite = Invite.objects.get(pk=body["id"])
    assert f"expires on {invite.expires_at:%Y-%m-%d %H:%M} UTC" in message.text
    assert invite.use_count == 0


def test_send_email_without_an_email_is_400_and_creates_nothing(staff_client):
    response = staff_client.post("/invites", {"send_email": True}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"email": [EMAIL_REQUIRED_TO_SEND]}
    assert Invite.objects.count() == 0 and Email.objects.count() == 0


def test_send_email_must_be_a_boolean(staff_client):
    response = staff_client.post("/invites", {"email": "a@example.com", "send_email": "yes"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"send_email"}


def test_an_invite_created_without_send_email_sends_nothing(staff_client):
    response = staff_client.post("/invites", {"email": "newcomer@example.com"}, format="json")

    assert response.json()["last_sent_at"] is None
    assert Email.objects.count() == 0


def test_send_queues_the_invite_email_and_records_when(service_client, invite, smtp_server, send_queued_mail):
    response = _send(service_client, invite)
    send_queued_mail()

    assert response.status_code == 202
    assert response.json()["id"] == str(invite.pk) and response.json()["last_sent_at"] is not None
    [message] = smtp_server.wait_for(1)
    assert invite.share_url in message.links()
    invite.refresh_from_db()
    assert invite.last_sent_at is not None and invite.last_email.to == ["newcomer@example.com"]


def test_sending_again_at_once_is_429_with_retry_after_and_later_works(service_client, invite, settings):
    first = _send(service_client, invite)
    second = _send(service_client, invite)
    Invite.objects.filter(pk=invite.pk).update(last_sent_at=timezone.now() - timedelta(seconds=61))
    third = _send(service_client, invite)

    assert first.status_code == 202
    assert second.status_code == 429
    assert 1 <= int(second["Retry-After"]) <= settings.INVITE_RESEND_INTERVAL_SECONDS
    assert second.json() == {
        "detail": f"This invite's email was sent moments ago; try again in {second['Retry-After']} seconds."
    }
    assert third.status_code == 202
    assert Email.objects.count() == 2


@pytest.mark.parametrize("state", ["revoked", "expired", "used_up"])
def test_an_invite_that_opens_nothing_is_409_and_not_sent(service_client, state):
    invite = InviteFactory(email="late@example.com", **{state: True})

    response = _send(service_client, invite)

    assert response.status_code == 409
    assert response.json() == {"detail": NOT_SENDABLE_DETAILS[state], "status": state}
    assert Email.objects.count() == 0


def test_an_invite_without_an_email_is_409(service_client):
    response = _send(service_client, InviteFactory(email=""))

    assert response.status_code == 409
    assert response.json() == {"detail": NO_EMAIL_TO_SEND}


def test_send_of_an_unknown_invite_is_404(service_client):
    response = service_client.post("/invites/00000000-0000-0000-0000-000000000000/send")

    assert response.status_code == 404


def test_send_is_for_staff_and_the_service_only(api_client, user, invite):
    assert api_client.post(f"/invites/{invite.pk}/send").status_code == 401
    assert api_client.post(f"/invites/{invite.pk}/send", headers=bearer(user)).status_code == 403
    assert Email.objects.count() == 0


def test_the_links_in_the_email_can_be_opened_by_a_scanner_without_using_the_invite(
    service_client, invite, smtp_server, send_queued_mail
):
    _send(service_client, invite)
    send_queued_mail()
    [message] = smtp_server.wait_for(1)

    for link in message.links():
        Client().get(link.replace("http://127.0.0.1:8000", ""))

    invite.refresh_from_db()
    assert invite.use_count == 0 and invite.status == "active"


# --- the Django admin ---------------------------------------------------------------------------------


@pytest.fixture
def desk() -> Client:
    staff = UserFactory(email="desk@example.com", first_name="Desk", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="invites", codename__in=["view_invite", "change_invite"])
    )
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_action_sends_the_selected_invites_and_shows_when_each_was_last_sent(
    desk, smtp_server, send_queued_mail
):
    chosen = InviteFactory(email="chosen@example.com")
    no_email = InviteFactory(email="")
    revoked = InviteFactory(email="gone@example.com", revoked=True)
    untouched = InviteFactory(email="untouched@example.com")

    response = desk.post(
        "/admin/invites/invite/",
        {"action": "send_email", "_selected_action": [chosen.pk, no_email.pk, revoked.pk]},
        follow=True,
    )
    send_queued_mail()
    listing = desk.get("/admin/invites/invite/")

    assert response.status_code == 200
    assert b"Queued 1 invite email(s)" in response.content
    assert b"no email to send it to" in response.content and b"has been revoked" in response.content
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["chosen@example.com"]]
    chosen.refresh_from_db()
    assert f"{chosen.last_sent_at:%Y-%m-%d %H:%M} UTC (sent)".encode() in listing.content
    untouched.refresh_from_db()
    assert untouched.last_sent_at is None


def test_the_admin_action_leaves_an_invite_sent_moments_ago_alone(desk):
    invite = InviteFactory(email="chosen@example.com", last_sent_at=timezone.now())

    response = desk.post(
        "/admin/invites/invite/", {"action": "send_email", "_selected_action": [invite.pk]}, follow=True
    )

    assert b"left alone" in response.content
    assert Email.objects.count() == 0


# --- create_invite --send -----------------------------------------------------------------------------


def test_create_invite_send_queues_the_email(smtp_server, send_queued_mail):
    out = StringIO()
    call_command("create_invite", "--email", "cli@example.com", "--send", stdout=out)
    send_queued_mail()

    invite = Invite.objects.get()
    assert out.getvalue().splitlines()[-1] == "email queued to cli@example.com; `manage.py mail_worker` sends it"
    assert invite.last_sent_at is not None
    assert invite.share_url in smtp_server.wait_for(1)[0].links()


def test_create_invite_send_without_an_email_is_refused():
    with pytest.raises(CommandError, match="--send needs --email"):
        call_command("create_invite", "--send", stdout=StringIO())
    assert Invite.objects.count() == 0
