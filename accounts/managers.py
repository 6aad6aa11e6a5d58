from django.contrib.auth.base_user import BaseUserManager
from django.core.exceptions import ValidationError

from accounts.emails import EMAIL_TAKEN, email_key


class UserManager(BaseUserManager):
    """Users log in with their email, matched by its key (accounts.emails): in any case or lookalike."""

    use_in_migrations = True

    def get_by_natural_key(self, email: str):
        return self.get(email_key=email_key(email))

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        # createsuperuser checks uniqueness only for unique=True fields; it reports a ValidationError cleanly.
        if self.filter(email_key=email_key(email)).exists():
            raise ValidationError({"email": EMAIL_TAKEN})
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)
