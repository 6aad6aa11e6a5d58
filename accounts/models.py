import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.managers import UserManager


class CaseInsensitiveEmailField(models.EmailField):
    """An email field with an `__lower` lookup, so queries use the Lower(email) unique index."""


CaseInsensitiveEmailField.register_lookup(Lower)


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = CaseInsensitiveEmailField("email address", max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # In every token (accounts.services.tokens_for); a token naming an older version is refused.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs):
        """A new password (set_password: admin, changepassword, services) or a deactivation ends every
        earlier session: the token version goes up in the same UPDATE. A hash upgrade at login is no change:
        Django's check_password clears `_password` before saving it."""
        ends_sessions = not self._state.adding and (
            self._password is not None or getattr(self, "_password_disabled", False) or not self.is_active
        )
        if ends_sessions:
            self.token_version = F("token_version") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "token_version"}
        super().save(*args, **kwargs)
        if ends_sessions:
            self._password_disabled = False
            self.refresh_from_db(fields=["token_version"])

    def validate_unique(self, exclude=None):
        super().validate_unique(exclude)
        # The admin form shows "already exists" instead of failing on the database constraint.
        if not exclude or "email" not in exclude:
            clash = User.objects.filter(email__lower=self.email.lower()).exclude(pk=self.pk)
            if self.email and clash.exists():
                from django.core.exceptions import ValidationError

                raise ValidationError({"email": "A user with this email already exists."})

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name
