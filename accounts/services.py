"""Account rules: logging in (with failed-login limits), the one token response shape, refresh with rotation,
ending sessions, creating users."""

import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac
from rest_framework.exceptions import Throttled
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.emails import EMAIL_TAKEN, email_key, validate_email_key_length
from accounts.models import Plan, User
from accounts.selectors import user_email_taken
from wisdom.cache import cache_add, cache_get_many, cache_incr
from wisdom.errors import ApiError

INVALID_CREDENTIALS = "Invalid email or password."
INVALID_REFRESH = "Refresh token is invalid or expired."
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


def _login_failure_counters(*, address: str, email: str) -> list[tuple[str, str, int]]:
    return [
        ("address", address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        ("pair", f"{address} {email_key(email)}", settings.LOGIN_FAILURE_LIMIT),
    ]


def _login_failure_key(scope: str, ident: str, window: int) -> str:
    digest = salted_hmac("accounts.login-failures", ident, algorithm="sha256").hexdigest()
    return f"login-failures:{scope}:{digest}:{window}"


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
    if user is None or not token_version_is_current(token=refresh, user=user):
        raise InvalidCredentials(INVALID_REFRESH)

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


def token_version_is_current(*, token, user: User) -> bool:
    """False for a token minted before the account's last password change or end of sessions."""
    return token.get(TOKEN_VERSION_CLAIM) == user.token_version


def user_sessions_end(*, user: User) -> None:
    """Every token issued so far stops working at once (a later logout-all route calls this)."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])


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
