"""Setting and changing a password; every change ends the account's earlier sessions."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F

from accounts.errors import WRONG_CURRENT_PASSWORD
from accounts.models import User
from accounts.notices import notice_password_changed
from accounts.services.login_limits import login_failure_record, login_failures_check
from accounts.services.tokens import tokens_for


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
    new_password_validate(password=new_password, user=user)
    password_hash = make_password(new_password)
    with transaction.atomic():
        user_password_set(user=user, password_hash=password_hash)
        notice_password_changed(user=user, address=address, how="changed")
    return tokens_for(user=user)


def new_password_validate(*, password: str, user: User) -> None:
    """Django's password validators, their messages under `new_password`."""
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise DjangoValidationError({"new_password": exc.messages}) from None
