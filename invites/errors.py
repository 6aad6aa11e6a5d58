"""Invite errors, each with its own status and public detail; wisdom/exceptions.py renders them."""

from rest_framework import status

from invites.models import InviteStatus
from wisdom.errors import ApiError

INVITE_NOT_FOUND = "Invite not found."
EMAIL_REQUIRED = "Email is required to create your account."
EMAIL_REQUIRED_TO_SEND = "An invite is sent to its email: give one to send it."
NO_EMAIL_TO_SEND = "This invite has no email to send it to."
SENT_RECENTLY = "This invite's email was sent moments ago; try again in {seconds} seconds."
NOT_SENDABLE_DETAILS = {
    InviteStatus.EXPIRED: "This invite has expired; extend it before sending it.",
    InviteStatus.USED_UP: "This invite has been used up; there is nothing to send.",
    InviteStatus.REVOKED: "This invite has been revoked; there is nothing to send.",
}
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


class InviteNotSendable(ApiError):
    """409: the invite cannot be sent as it is (revoked, expired, used up, or without an email)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = NO_EMAIL_TO_SEND
    default_code = "invite_not_sendable"

    @classmethod
    def for_status(cls, invite_status: str) -> "InviteNotSendable":
        return cls(NOT_SENDABLE_DETAILS[invite_status], extra={"status": invite_status})


class InviteSentRecently(ApiError):
    """429: one email per invite per INVITE_RESEND_INTERVAL_SECONDS."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "invite_sent_recently"

    def __init__(self, *, wait_seconds: int):
        super().__init__(SENT_RECENTLY.format(seconds=wait_seconds), headers={"Retry-After": str(wait_seconds)})
        self.wait_seconds = wait_seconds
