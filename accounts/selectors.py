import re
import uuid

from django.db.models import QuerySet

from accounts.emails import email_key
from accounts.models import ApiKey, User


def user_get_active(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_get_by_email(*, email: str) -> User | None:
    """Any user, active or not, whose email is the same account's as `email` (accounts.emails)."""
    return User.objects.filter(email_key=email_key(email)).first()


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email_key=email_key(email)).exists()


# The shape of every key djangorestframework-api-key issues: an 8-character prefix, a dot, 32 characters.
API_KEY_SHAPE = re.compile(r"[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}")


def api_key_get_by_key(*, key: str) -> ApiKey | None:
    """The key, with its owner, whose secret is `key` (compared in constant time), revoked or expired or not;
    None when no key has that prefix and secret. Anything not shaped like a key is not looked up."""
    if not API_KEY_SHAPE.fullmatch(key):
        return None
    api_key = ApiKey.objects.select_related("user").filter(prefix=key.partition(".")[0]).first()
    if api_key is None or not api_key.is_valid(key):
        return None
    return api_key


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys, revoked ones included, newest first."""
    return ApiKey.objects.filter(user=user).order_by("-created", "-pk")


def api_key_get(*, user: User, key_id: uuid.UUID) -> ApiKey | None:
    """One of the user's own keys; another user's is None, as if it did not exist."""
    return ApiKey.objects.filter(user=user, pk=key_id).first()
