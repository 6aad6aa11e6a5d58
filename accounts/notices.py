"""Security notices by email: the owner is told when the password is changed or reset and when an API key is
made: what, when, from which client address (as the throttles see it: behind NUM_PROXIES trusted proxies, never
a raw client header), and what to do if it was not them. Queued in the transaction of the change it tells of;
never a secret (no password, token, link or key; a key is named by its name and public prefix)."""

import logging
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone

from accounts.models import ApiKey, User
from mail.services import email_enqueue

logger = logging.getLogger(__name__)

PASSWORD_NOTICE_TEMPLATE = "accounts/email/notice_password"
API_KEY_NOTICE_TEMPLATE = "accounts/email/notice_api_key"


def notice_password_changed(
    *, user: User, address: str | None, how: Literal["changed", "reset"], api_keys_revoked: int = 0
) -> None:
    _enqueue(
        user=user,
        template=PASSWORD_NOTICE_TEMPLATE,
        context={"how": how, "api_keys_revoked": api_keys_revoked, **_facts(user=user, address=address)},
    )


def notice_api_key_created(*, user: User, api_key: ApiKey, address: str | None) -> None:
    _enqueue(
        user=user,
        template=API_KEY_NOTICE_TEMPLATE,
        context={
            "key_name": api_key.name,
            "key_prefix": api_key.prefix,
            "key_id": api_key.pk,
            "expires_at": api_key.expiry_date,
            **_facts(user=user, address=address),
        },
    )


def _facts(*, user: User, address: str | None) -> dict:
    return {"first_name": user.first_name, "email": user.email, "at": timezone.now(), "address": address or "unknown"}


def _enqueue(*, user: User, template: str, context: dict) -> None:
    try:
        email_enqueue(to=user.email, template=template, context=context)
    except DjangoValidationError:  # an address the outbox refuses: the change itself still stands
        logger.warning("security notice %s for user %s: the account's address cannot be emailed", template, user.pk)
