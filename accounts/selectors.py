import uuid

from accounts.models import User


def user_get_active(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email__lower=email.lower()).exists()
