"""Invite errors, each with its own status and public detail; wisdom/exceptions.py renders them."""

from rest_framework import status

from invites.models import InviteStatus
from wisdom.errors import ApiError

INVITE_NOT_FOUND = "Invite not found."
EMAIL_REQUIRED = "Email is required to create your account."
GONE_DETAILS = {
    InviteStatus.EXPIRED: "This invite has expired.",
    InviteStatus.USED_UP: "This invite has been used up.",
    InviteStatus.REVOKED: "This invite has been revoked.",
}


class InviteNotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = INVITE_NOT_FOUND
    default_code = "invite_not_found"


class InviteGone(ApiError):
    """410: the invite exists but opens nothing any more; the detail says why."""

    status_code = status.HTTP_410_GONE
    default_detail = GONE_DETAILS[InviteStatus.USED_UP]
    default_code = "invite_gone"

    @classmethod
    def for_status(cls, invite_status: str) -> "InviteGone":
        return cls(GONE_DETAILS.get(invite_status, cls.default_detail), extra={"status": invite_status})
