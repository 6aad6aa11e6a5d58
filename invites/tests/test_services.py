from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from invites import services
from invites.models import Invite
from invites.tests.factories import InviteFactory

pytestmark = pytest.mark.django_db


def test_extend_pushes_a_future_expiry_out_by_seven_days():
    expires_at = timezone.now() + timedelta(days=1)
    invite = InviteFactory(expires_at=expires_at)

    services.invite_extend(invite=invite)

    assert Invite.objects.get(pk=invite.pk).expires_at == expires_at + timedelta(days=7)


def test_extend_of_an_expired_invite_counts_from_now_and_reopens_it():
    invite = InviteFactory(expires_at=timezone.now() - timedelta(days=30))

    services.invite_extend(invite=invite)

    invite.refresh_from_db()
    assert invite.status == "active"
    assert abs(invite.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_extend_leaves_an_invite_that_never_expires_alone():
    invite = InviteFactory(expires_at=None)

    services.invite_extend(invite=invite)

    assert Invite.objects.get(pk=invite.pk).expires_at is None


def test_extend_does_not_undo_a_revocation():
    invite = InviteFactory(revoked=True)

    services.invite_extend(invite=invite)

    assert Invite.objects.get(pk=invite.pk).status == "revoked"


def test_extend_stops_at_the_maximum_expiry():
    invite = InviteFactory(expires_at=timezone.now() + timedelta(days=3648))

    services.invite_extend(invite=invite)

    expires_at = Invite.objects.get(pk=invite.pk).expires_at
    assert abs(expires_at - (timezone.now() + timedelta(days=3650))) < timedelta(minutes=1)
    assert invite.expires_at == expires_at


def test_extend_leaves_an_expiry_already_beyond_the_maximum_alone():
    far = datetime(9999, 12, 31, tzinfo=UTC)
    invite = InviteFactory(expires_at=far)  # written straight to the table, as before the maximum existed

    services.invite_extend(invite=invite)

    assert Invite.objects.get(pk=invite.pk).expires_at == far


def test_revoke_stops_the_invite_and_keeps_it():
    invite = InviteFactory()

    services.invite_revoke(invite=invite)

    assert Invite.objects.get(pk=invite.pk).status == "revoked"


def test_create_refuses_both_an_expiry_and_a_duration_and_saves_nothing():
    with pytest.raises(ValidationError) as caught:
        services.invite_create(expires_at=timezone.now() + timedelta(days=1), expires_in=timedelta(days=1))

    assert caught.value.message_dict == {"expires_at": ["Give either an expiry time or a duration, not both."]}
    assert not Invite.objects.exists()


def test_create_refuses_a_duration_that_is_not_positive():
    with pytest.raises(ValidationError):
        services.invite_create(expires_in=timedelta(0))
    assert not Invite.objects.exists()


def test_create_refuses_an_expiry_beyond_the_maximum_and_saves_nothing():
    with pytest.raises(ValidationError) as caught:
        services.invite_create(expires_at=datetime(9999, 12, 31, tzinfo=UTC))

    assert caught.value.message_dict == {"expires_at": ["The expiry must be at most 3650 days from now."]}
    assert not Invite.objects.exists()


@pytest.mark.parametrize("duration", [timedelta(days=3651), timedelta.max])
def test_create_refuses_a_duration_beyond_the_maximum_and_saves_nothing(duration):
    with pytest.raises(ValidationError) as caught:
        services.invite_create(expires_in=duration)

    assert caught.value.message_dict == {"expires_in": ["The duration must be at most 3650 days."]}
    assert not Invite.objects.exists()


def test_create_strips_email_and_note():
    invite = services.invite_create(email="  a@example.com ", note="  hi  ")

    assert (invite.email, invite.note) == ("a@example.com", "hi")
