from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from invites.models import Invite, InviteStatus
from invites.tests.factories import InviteFactory

pytestmark = pytest.mark.django_db

STATES = {
    "fresh": ({}, InviteStatus.ACTIVE),
    "never expires": ({"expires_at": None}, InviteStatus.ACTIVE),
    "partly used": ({"max_uses": 5, "use_count": 4}, InviteStatus.ACTIVE),
    "expired": ({"expired": True}, InviteStatus.EXPIRED),
    "used up": ({"max_uses": 3, "use_count": 3}, InviteStatus.USED_UP),
    "revoked": ({"revoked": True}, InviteStatus.REVOKED),
    "expired and used up": ({"expired": True, "used_up": True}, InviteStatus.USED_UP),
    "revoked, expired and used up": ({"revoked": True, "expired": True, "used_up": True}, InviteStatus.REVOKED),
}


@pytest.mark.parametrize("fields, expected", STATES.values(), ids=STATES.keys())
def test_status_property_and_queryset_filter_agree(fields, expected):
    invite = InviteFactory(**fields)
    InviteFactory()  # an active bystander the filters must tell apart

    assert invite.status == expected
    for status in InviteStatus.values:
        matched = Invite.objects.with_status(status).filter(pk=invite.pk).exists()
        assert matched == (status == expected), status


def test_expiry_is_exclusive_at_the_instant_itself():
    now = timezone.now()
    invite = InviteFactory(expires_at=now)

    assert invite.status_at(now) == InviteStatus.EXPIRED
    assert invite.status_at(now - timedelta(microseconds=1)) == InviteStatus.ACTIVE
    assert not Invite.objects.redeemable(now=now).filter(pk=invite.pk).exists()


def test_tokens_are_long_random_and_unique():
    tokens = {InviteFactory().token for _ in range(20)}

    assert len(tokens) == 20
    assert all(len(token) == 43 for token in tokens)


def test_share_url_prefers_the_frontend_base_url(settings):
    invite = InviteFactory()
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    assert invite.share_url == f"https://app.example.com/personal/invite?token={invite.token}"


def test_share_url_falls_back_to_the_base_url(settings):
    invite = InviteFactory()
    settings.FRONTEND_BASE_URL = ""
    settings.BASE_URL = "https://api.example.com"

    assert invite.share_url == f"https://api.example.com/personal/invite?token={invite.token}"


def test_inviter_name_is_first_name_else_full_name_else_none_never_the_email():
    assert InviteFactory(inviter__first_name="Stella", inviter__last_name="Okafor").inviter_name == "Stella"
    assert InviteFactory(inviter__first_name="", inviter__last_name="Okafor").inviter_name == "Okafor"
    assert (
        InviteFactory(inviter__first_name="", inviter__last_name="", inviter__email="x@example.com").inviter_name
        is None
    )
    assert InviteFactory(inviter=None).inviter_name is None


def test_deleting_the_inviter_keeps_the_invite():
    invite = InviteFactory()
    invite.inviter.delete()

    invite.refresh_from_db()
    assert invite.inviter is None


def test_the_database_refuses_more_uses_than_allowed():
    invite = InviteFactory(max_uses=2, use_count=2)

    with pytest.raises(IntegrityError):
        Invite.objects.filter(pk=invite.pk).update(use_count=3)


@pytest.mark.parametrize("max_uses", [0, 10_001])
def test_the_database_refuses_max_uses_out_of_range(max_uses):
    with pytest.raises(IntegrityError):
        InviteFactory(max_uses=max_uses)
