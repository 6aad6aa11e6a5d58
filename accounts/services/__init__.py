"""Account rules: logging in (with failed-login limits), the one token response shape, refresh with rotation,
logging out and ending sessions, changing and resetting a password, the profile, API keys, creating users."""

import logging
import time
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.emails import EMAIL_TAKEN, email_key, validate_email_key_length
from accounts.models import ApiKey, PasswordResetAsk, Plan, User
from accounts.notices import notice_api_key_created, notice_password_changed
from accounts.selectors import api_key_get, user_email_taken, user_get_by_email
from accounts.services.login_failure_pairs import (
    login_failure_digest,
    login_failure_pairs,
    login_failure_pairs_drop,
    login_failure_pairs_remember,
)
from mail.services import email_enqueue
from wisdom.cache import cache_add, cache_count, cache_delete, cache_get_many, cache_incr
from wisdom.errors import NON_FIELD_ERRORS, ApiError

logger = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid email or password."
INVALID_REFRESH = "Refresh token is invalid or expired."
# A token of ours from before the account's token version moved (logout-all, a password change, deactivation).
SESSION_ENDED = "This session has ended; log in again."
WRONG_CURRENT_PASSWORD = "Your current password is not correct."
RESET_LINK_INVALID = "This password reset link is invalid or has expired; ask for a new one."
RESET_REQUESTED = "If an account uses this email, a link to reset its password is on its way."
API_KEY_NOT_FOUND = "API key not found."
API_KEY_EXPIRY_PAST = "The expiry must be in the future."
RESET_EMAIL_TEMPLATE = "accounts/email/password_reset"
# The claim carrying User.token_version; a token whose version is not the account's current one is refused.
TOKEN_VERSION_CLAIM = "ver"


class InvalidCredentials(ApiError):
    """401 from a route that takes credentials in its body. Not DRF's AuthenticationFailed: a view without
    authenticators turns that into a 403."""

    status_code = 401
    default_code = "invalid_credentials"


class EmailTaken(ApiError):
    """409: the email is another spelling of an existing account's (accounts.emails.email_key)."""

    status_code = 409
    default_detail = EMAIL_TAKEN
    default_code = "email_taken"


class ApiKeyNotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = API_KEY_NOT_FOUND
    default_code = "api_key_not_found"


def tokens_for(*, user: User) -> dict:
    """The one token response, used by login, refresh and invite redemption."""
    refresh = RefreshToken.for_user(user)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    access = refresh.access_token  # copies the claim
    return {
        "access_token": str(access),
        "refresh_token": str(refresh),
        "token_type": "bearer",
        "expires_in": int(access.lifetime.total_seconds()),
    }


def user_login(*, email: str, password: str, address: str, request=None) -> dict:
    """Tokens for a matching active user; one message for every failure, so none leaks which.

    Refused (429) without checking the password once `address` has failed too often (login_failures_check).
    """
    login_failures_check(address=address, email=email)
    user = authenticate(request, email=email, password=password)
    if user is None:
        login_failure_record(address=address, email=email)
        raise InvalidCredentials(INVALID_CREDENTIALS)
    return tokens_for(user=user)


# --- Failed-login limits (the API's login and the admin's) ---------------------------------------------
# Counted in the shared cache: per (address, email) up to LOGIN_FAILURE_LIMIT and per address up to
# LOGIN_FAILURE_LIMIT_PER_ADDRESS, over the current and the previous window of LOGIN_FAILURE_WINDOW_SECONDS
# (so a failure counts for one to two windows, with no reset at a window's edge). Only failures count, and
# never per email alone, so failures elsewhere cannot lock an account's owner out. Keys are keyed hashes.


def login_failures_check(*, address: str, email: str) -> None:
    """Raises Throttled (429, with Retry-After) when either count has reached its limit."""
    window, left = _login_failure_window()
    counters = _login_failure_counters(address=address, email=email)
    keys = [_login_failure_key(scope, ident, w) for scope, ident, _ in counters for w in (window, window - 1)]
    counts = cache_get_many(keys)  # the cache down: nothing counted, login fails open (logged)
    wait = 0
    for scope, ident, limit in counters:
        current = counts.get(_login_failure_key(scope, ident, window), 0)
        previous = counts.get(_login_failure_key(scope, ident, window - 1), 0)
        if current + previous >= limit:
            # At the window's edge the previous count drops out; if the current one alone is over, a window more.
            wait = max(wait, left + (settings.LOGIN_FAILURE_WINDOW_SECONDS if current >= limit else 0))
    if wait:
        raise Throttled(wait=wait)


def login_failure_record(*, address: str, email: str) -> None:
    """One more failure for the address and for the (address, email) pair; atomic on Redis."""
    window, left = _login_failure_window()
    expires_in = left + settings.LOGIN_FAILURE_WINDOW_SECONDS  # still read as the previous window
    for scope, ident, _ in _login_failure_counters(address=address, email=email):
        key = _login_failure_key(scope, ident, window)
        cache_add(key, 0, timeout=expires_in)
        if cache_incr(key) is None:  # evicted between add and incr, or the cache is down
            cache_add(key, 1, timeout=expires_in)
    pair = f"{address} {email_key(email)}"
    login_failure_pairs_remember(pair_digest=login_failure_digest(pair), email=email, timeout=expires_in)


def login_failures_forget(*, email: str) -> None:
    """Deletes the (address, email) counters of `email`, whose account is deleted; per-address counts stay."""
    window, _ = _login_failure_window()
    for pair_digest in login_failure_pairs(email=email):
        for w in (window, window - 1):
            cache_delete(f"login-failures:pair:{pair_digest}:{w}")
    login_failure_pairs_drop(email=email)


def _login_failure_counters(*, address: str, email: str) -> list[tuple[str, str, int]]:
    return [
        ("address", address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        ("pair", f"{address} {email_key(email)}", settings.LOGIN_FAILURE_LIMIT),
    ]


def _login_failure_key(scope: str, ident: str, window: int) -> str:
    return f"login-failures:{scope}:{login_failure_digest(ident)}:{window}"


def _login_failure_window() -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    now, length = int(time.time()), settings.LOGIN_FAILURE_WINDOW_SECONDS
    return now // length, length - now % length


def tokens_refresh(*, refresh_token: str) -> dict:
    """A new pair for a valid refresh token; the old one is blacklisted so it works only once."""
    try:
        refresh = RefreshToken(refresh_token)  # checks signature, expiry, type and the blacklist
    except TokenError:
        raise InvalidCredentials(INVALID_REFRESH) from None

    user_id = refresh.payload.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        raise InvalidCredentials(INVALID_REFRESH)
    if not token_version_is_current(token=refresh, user=user):
        raise InvalidCredentials(SESSION_ENDED)

    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=refresh.payload["jti"],
                defaults={"user": user, "token": str(refresh), "expires_at": datetime_from_epoch(refresh["exp"])},
            )
            # BlacklistedToken.token is one-to-one: of two racing refreshes, exactly one wins.
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        raise InvalidCredentials(INVALID_REFRESH) from None
    return tokens_for(user=user)


def refresh_token_revoke(*, refresh_token: str) -> None:
    """Logs one session out: the refresh token never works again (its access token lives out its minutes).

    A token of ours that already cannot be used (expired, used, from an ended session) needs nothing, so logging
    out twice is no error; anything else (not signed by us, not a refresh token) is InvalidCredentials."""
    try:
        refresh = RefreshToken(refresh_token)  # checks signature, expiry, type and the blacklist
    except TokenError:
        if _signed_refresh_token(refresh_token):
            return
        raise InvalidCredentials(INVALID_REFRESH) from None
    user_id = refresh.payload.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None or not token_version_is_current(token=refresh, user=user):
        return  # its session has ended already
    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=refresh.payload["jti"],
                defaults={"user": user, "token": str(refresh), "expires_at": datetime_from_epoch(refresh["exp"])},
            )
            BlacklistedToken.objects.get_or_create(token=outstanding)
    except IntegrityError:
        pass  # a refresh or logout of the same token won the race: it is blacklisted either way


def _signed_refresh_token(token: str) -> bool:
    """True for a refresh token we signed, whatever its expiry."""
    backend = token_backend
    try:
        payload = jwt.decode(
            token,
            backend.get_verifying_key(token),
            algorithms=[backend.algorithm],
            options={"verify_exp": False, "verify_aud": False},
        )
    except jwt.InvalidTokenError:
        return False
    return payload.get("token_type") == "refresh"


def token_version_is_current(*, token, user: User) -> bool:
    """False for a token minted before the account's last password change or end of sessions."""
    return token.get(TOKEN_VERSION_CLAIM) == user.token_version


def user_sessions_end(*, user: User) -> None:
    """Every access and refresh token issued so far stops working at once (POST /auth/logout-all). API keys
    are no sessions: they stay until revoked."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])


def user_password_set(*, user: User, password_hash: str) -> None:
    """The new password and the end of every earlier session, in one UPDATE. Callers hash first (slowly, with
    make_password) and outside any transaction that holds a lock."""
    User.objects.filter(pk=user.pk).update(password=password_hash, token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["password", "token_version"])


def user_password_change(*, user: User, current_password: str, new_password: str, address: str) -> dict:
    """A new password for a caller who knows the current one; a fresh token pair, every other session ended, the
    API keys kept, and the owner told by email.

    A wrong current password counts as a failed login for the account's email (and is refused with 429 once
    too many failed), so a stolen access token cannot be used to guess the password here."""
    login_failures_check(address=address, email=user.email)
    if not user.check_password(current_password):
        login_failure_record(address=address, email=user.email)
        raise DjangoValidationError({"current_password": [WRONG_CURRENT_PASSWORD]})
    _validate_new_password(password=new_password, user=user)
    password_hash = make_password(new_password)
    with transaction.atomic():
        user_password_set(user=user, password_hash=password_hash)
        notice_password_changed(user=user, address=address, how="changed")
    return tokens_for(user=user)


def user_profile_update(*, user: User, first_name: str | None = None, last_name: str | None = None) -> User:
    """Changes the given names only; the rest of the account is not the caller's to change here."""
    changed = {
        name: value.strip()
        for name, value in (("first_name", first_name), ("last_name", last_name))
        if value is not None
    }
    for name, value in changed.items():
        setattr(user, name, value)
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


def _validate_new_password(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise DjangoValidationError({"new_password": exc.messages}) from None


# --- Password reset ------------------------------------------------------------------------------------
# Asking does the same work whether or not an account uses the email: the per-email count, then one row saved
# (PasswordResetAsk); no lookup. The worker's mail job (password_reset_asks_process) then emails the link to an
# eligible account and drops any other ask. Links are Django's PasswordResetTokenGenerator tokens: valid
# PASSWORD_RESET_TIMEOUT seconds, and only while the password (and email) are what they were, so a link works once.
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
    _validate_new_password(password=new_password, user=user)
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


# --- Personal API keys ---------------------------------------------------------------------------------
API_KEY_TOUCH_SECONDS = 60  # last_used_at is written at most this often per key


def api_key_create(
    *, user: User, name: str, expires_at: datetime | None = None, address: str | None = None
) -> tuple[ApiKey, str]:
    """A new key for `user`: the row, and the key itself, which is shown this once and stored only hashed. The
    owner is told by email (from `address`, the client's)."""
    if expires_at is not None and expires_at <= timezone.now():
        raise DjangoValidationError({"expires_at": [API_KEY_EXPIRY_PAST]})
    api_key = ApiKey(user=user, name=name.strip(), expiry_date=expires_at)
    key = ApiKey.objects.assign_key(api_key)
    with transaction.atomic():
        api_key.save(force_insert=True)
        notice_api_key_created(user=user, api_key=api_key, address=address)
    return api_key, key


def api_keys_revoke_all(*, user: User) -> int:
    """Revokes every key of `user` still in force; returns how many."""
    return ApiKey.objects.filter(user=user, revoked=False).update(revoked=True, revoked_at=timezone.now())


def api_key_revoke(*, user: User, key_id: uuid.UUID) -> ApiKey:
    """Revokes one of the user's keys for good (ApiKeyNotFound, 404, for anyone else's); idempotent, the first
    revocation time is kept. The row stays, so logs that name the key can still be traced."""
    api_key = api_key_get(user=user, key_id=key_id)
    if api_key is None:
        raise ApiKeyNotFound()
    ApiKey.objects.filter(pk=api_key.pk, revoked=False).update(revoked=True, revoked_at=timezone.now())
    api_key.refresh_from_db(fields=["revoked", "revoked_at"])
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Records a use: at most one UPDATE per key per API_KEY_TOUCH_SECONDS, however many requests."""
    now = timezone.now()
    stale = now - timedelta(seconds=API_KEY_TOUCH_SECONDS)
    if api_key.last_used_at is not None and api_key.last_used_at > stale:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)).update(
        last_used_at=now
    )
    api_key.last_used_at = now


def user_create(
    *,
    email: str,
    password: str | None = None,
    password_hash: str | None = None,
    first_name: str = "",
    last_name: str = "",
    plan: str = Plan.FREE,
    is_staff: bool = False,
) -> User:
    """A new account in one INSERT. `password_hash` lets a caller hash (slowly) before its transaction.

    Raises EmailTaken (409) when the email's key is taken, also by a rival INSERT after the caller checked.
    """
    try:
        validate_email_key_length(email)
    except DjangoValidationError as exc:
        raise DjangoValidationError({"email": exc.messages}) from None
    user = User(
        email=User.objects.normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        plan=plan,
        is_staff=is_staff,
    )
    if password_hash is not None:
        user.password = password_hash
    else:
        user.set_password(password)  # None gives an unusable password
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction stays usable after a clash
            user.save(force_insert=True)
    except IntegrityError:
        if user_email_taken(email=email):
            raise EmailTaken() from None
        raise
    return user
