"""Personal API keys: made (shown once, stored hashed), revoked, and their last use recorded."""

import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.errors import API_KEY_EXPIRY_PAST, ApiKeyNotFound
from accounts.models import ApiKey, User
from accounts.notices import notice_api_key_created
from accounts.selectors import api_key_get

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
