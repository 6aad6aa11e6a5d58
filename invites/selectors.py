"""Reads: one invite by token or id, and the filtered list for the admin API."""

import re
import uuid

from accounts.models import User
from accounts.selectors import user_get_by_email
from invites.models import Invite, InviteQuerySet, InviteStatus

# The shape of every token we issue (URL-safe base64, 43 characters); anything else is not looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def invite_get_by_token(*, token: str) -> Invite | None:
    if not TOKEN_SHAPE.fullmatch(token or ""):
        return None
    return Invite.objects.select_related("inviter").filter(token=token).first()


def invite_get(*, invite_id: uuid.UUID) -> Invite | None:
    return Invite.objects.select_related("inviter").prefetch_related("redemptions").filter(pk=invite_id).first()


def invite_list(
    *, unredeemed_only: bool = False, include_expired: bool = True, status: str | None = None
) -> InviteQuerySet:
    """Newest first."""
    invites = Invite.objects.select_related("inviter").order_by("-created_at", "-id")
    if unredeemed_only:
        invites = invites.filter(use_count=0)
    if not include_expired:
        invites = invites.exclude(pk__in=Invite.objects.with_status(InviteStatus.EXPIRED).values("pk"))
    if status:
        invites = invites.with_status(status)
    return invites


def inviter_get_by_email(*, email: str) -> User | None:
    """Any user, matched in any spelling of the email; staff name themselves as the inviter in `create_invite`."""
    return user_get_by_email(email=email)
