"""Sessions: logging in, the one token response shape, refresh with rotation, logging out one or every session."""

import jwt
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.errors import INVALID_CREDENTIALS, INVALID_REFRESH, SESSION_ENDED, InvalidCredentials
from accounts.models import User
from accounts.services.login_limits import login_failure_record, login_failures_check

# The claim carrying User.token_version; a token whose version is not the account's current one is refused.
TOKEN_VERSION_CLAIM = "ver"


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
    if not _refresh_token_blacklist(refresh=refresh, user=user):
        raise InvalidCredentials(INVALID_REFRESH)
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
    # A refresh or logout of the same token that won the race has blacklisted it either way.
    _refresh_token_blacklist(refresh=refresh, user=user)


def _refresh_token_blacklist(*, refresh: RefreshToken, user: User) -> bool:
    """Blacklists `refresh`; False when a rival use of the same token blacklisted it first."""
    try:
        with transaction.atomic():
            outstanding, _ = OutstandingToken.objects.get_or_create(
                jti=refresh.payload["jti"],
                defaults={"user": user, "token": str(refresh), "expires_at": datetime_from_epoch(refresh["exp"])},
            )
            # BlacklistedToken.token is one-to-one: of two racing uses, exactly one creates it.
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        return False
    return True


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
