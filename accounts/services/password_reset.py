"""Password reset by email link (README's "Password reset"). Asking looks no account up, so it does the same
work whatever the email; the worker's mail job turns asks into emails."""

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.emails import email_key
from accounts.errors import RESET_LINK_INVALID
from accounts.models import PasswordResetAsk, User
from accounts.notices import notice_password_changed
from accounts.selectors import user_get_by_email
from accounts.services.api_keys import api_keys_revoke_all
from accounts.services.passwords import new_password_validate, user_password_set
from accounts.services.tokens import tokens_for
from mail.services import email_enqueue
from wisdom.cache import cache_count
from wisdom.errors import NON_FIELD_ERRORS

logger = logging.getLogger(__name__)

RESET_REQUESTED = "If an account uses this email, a link to reset its password is on its way."
RESET_EMAIL_TEMPLATE = "accounts/email/password_reset"
RESET_ASKS_PER_PASS = 100  # asks the worker turns into email per pass (the rest wait for the next)


def password_reset_request(*, email: str) -> None:
    """Records an ask for a reset link, answered alike for any address. At most PASSWORD_RESET_EMAIL_LIMIT per
    email per window are recorded, and none while PASSWORD_RESET_ASKS_MAX wait for the worker (it is down):
    more are ignored (for any address alike)."""
    if not _reset_emails_within_limit(email=email):
        return
    if PasswordResetAsk.objects.order_by("pk")[settings.PASSWORD_RESET_ASKS_MAX - 1 :].exists():
        logger.error("%d password reset asks wait for the worker: one more ignored", settings.PASSWORD_RESET_ASKS_MAX)
        return
    PasswordResetAsk.objects.create(email=email)


def password_reset_asks_process(*, limit: int = RESET_ASKS_PER_PASS) -> int:
    """Turns waiting asks into reset emails for active accounts with a password; drops the others, and asks
    older than a link's lifetime. Each ask is deleted in the transaction that queues its email: one email per
    ask, also with several workers. Returns how many asks were handled."""
    handled = 0
    stale = timezone.now() - timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    while handled < limit:
        with transaction.atomic():
            ask = PasswordResetAsk.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if ask is None:
                break
            handled += 1
            if not PasswordResetAsk.objects.filter(pk=ask.pk).delete()[0]:
                continue  # another worker took it (SQLite, which has no row locks)
            user = user_get_by_email(email=ask.email)
            if ask.created_at <= stale or user is None or not user.is_active or not user.has_usable_password():
                continue
            try:
                email_enqueue(to=user.email, template=RESET_EMAIL_TEMPLATE, context=_reset_email_context(user=user))
            except DjangoValidationError:  # an address the outbox refuses: nothing can be sent to it
                logger.warning("password reset ask %s: the account's address cannot be emailed; dropped", ask.pk)
    return handled


def _reset_emails_within_limit(*, email: str) -> bool:
    digest = salted_hmac("accounts.password-reset", email_key(email), algorithm="sha256").hexdigest()
    count = cache_count(f"password-reset:{digest}", window_seconds=settings.PASSWORD_RESET_EMAIL_WINDOW_SECONDS)
    return count is None or count <= settings.PASSWORD_RESET_EMAIL_LIMIT  # the cache down: fail open


def _reset_email_context(*, user: User) -> dict:
    query = urlencode(
        {"uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}
    )
    base = settings.FRONTEND_BASE_URL or settings.BASE_URL
    return {
        "first_name": user.first_name,
        "reset_url": f"{base}/personal/reset-password?{query}",
        "expires_at": timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT),
        "valid_for": _duration(settings.PASSWORD_RESET_TIMEOUT),
    }


def password_reset_user(*, uid: str, token: str) -> User | None:
    """The active account a reset link is for, if the link is still valid; reading it consumes nothing."""
    try:
        user_id = uuid.UUID(urlsafe_base64_decode(uid).decode())
    except (ValueError, TypeError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def password_reset_confirm(*, uid: str, token: str, new_password: str, address: str | None = None) -> dict:
    """Sets the password from a valid link (which then never works again), ends every earlier session and
    revokes every API key (a reset is how an account is taken back), and tells the owner by email; a fresh token
    pair. Django's ValidationError (400) for a bad link or a weak password."""
    user = password_reset_user(uid=uid, token=token)
    if user is None:
        raise DjangoValidationError({NON_FIELD_ERRORS: [RESET_LINK_INVALID]})
    new_password_validate(password=new_password, user=user)
    password_hash = make_password(new_password)
    with transaction.atomic():
        # The row lock makes two uses of one link queue: the second sees the new password, so the link is dead.
        locked = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if locked is None or not default_token_generator.check_token(locked, token):
            raise DjangoValidationError({NON_FIELD_ERRORS: [RESET_LINK_INVALID]})
        user_password_set(user=locked, password_hash=password_hash)
        revoked = api_keys_revoke_all(user=locked)
        notice_password_changed(user=locked, address=address, how="reset", api_keys_revoked=revoked)
    return tokens_for(user=locked)


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
