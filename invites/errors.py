"""Invite errors, each with its own status; wisdom/exceptions.py turns them into {"detail": ...}."""

from rest_framework import status

from invites.models import InviteStatus
from wisdom.exceptions import ApiError

INVITE_NOT_FOUND = "Invite not found."
EMAIL_REQUIRED = "Email is required to create your account."
EMAIL_TAKEN = "An account with this email already exists."
GONE_DETAILS = {
    InviteStatus.EXPIRED: "This invite has expired.",
    InviteStatus.USED_UP: "This invite has been used up.",
    InviteStatus.REVOKED: "This invite has been revoked.",
}


class InviteNotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = INVITE_NOT_FOUND


class InviteGone(ApiError):
    """410: the invite exists but opens nothing any more; the detail says why."""

    status_code = status.HTTP_410_GONE
    default_detail = GONE_DETAILS[InviteStatus.USED_UP]

    @classmethod
    def for_status(cls, invite_status: str) -> "InviteGone":
        return cls(GONE_DETAILS.get(invite_status, cls.default_detail), extra={"status": invite_status})


class EmailRequired(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = EMAIL_REQUIRED


class EmailTaken(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = EMAIL_TAKEN


class InviteInvalid(ApiError):
    """400 for input a service refuses, with messages per field like a serializer's."""

    status_code = status.HTTP_400_BAD_REQUEST

    @classmethod
    def from_messages(cls, errors: dict[str, list[str]]) -> "InviteInvalid":
        field, messages = next(iter(errors.items()))
        detail = " ".join(messages) if field in ("__all__", "non_field_errors") else f"{field}: {' '.join(messages)}"
        return cls(detail, extra={"errors": errors})
