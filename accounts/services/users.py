"""Creating an account and changing its names."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from accounts.emails import validate_email_key_length
from accounts.errors import EmailTaken
from accounts.models import Plan, User
from accounts.selectors import user_email_taken


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
