import uuid

from accounts.emails import email_key
from accounts.models import User


def user_get_active(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_get_by_email(*, email: str) -> User | None:
    """Any user, active or not, whose email is the same account's as `email` (accounts.emails)."""
    return User.objects.filter(email_key=email_key(email)).first()


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email_key=email_key(email)).exists()
