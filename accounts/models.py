import uuid

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from accounts.emails import EMAIL_KEY_MAX_LENGTH, EMAIL_TAKEN, email_key, validate_email_key_length
from accounts.managers import UserManager


class CaseInsensitiveEmailField(models.EmailField):
    """Named by migration 0001 only; emails compare by User.email_key."""


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PRO = "pro", "Pro"
    ENTERPRISE = "enterprise", "Enterprise"


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, validators=[validate_email_key_length])
    # accounts.emails.email_key(email), set on every save: the one form compared and kept unique.
    email_key = models.CharField(max_length=EMAIL_KEY_MAX_LENGTH, editable=False)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # In every token (accounts.services.tokens_for); a token naming an older version is refused.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["email_key"], name="accounts_user_email_key_unique"),
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
        self.email_key = email_key(self.email)
        ends_sessions = not self._state.adding and (
            self._password is not None or getattr(self, "_password_disabled", False) or not self.is_active
        )
        version = self.token_version
        if ends_sessions:
            self.token_version = F("token_version") + 1
            kwargs = _with_updated(kwargs, "token_version")
        if kwargs.get("update_fields") is not None and "email" in kwargs["update_fields"]:
            kwargs = _with_updated(kwargs, "email_key")
        try:
            super().save(*args, **kwargs)
        except BaseException:
            self.token_version = version  # not the unsaved expression
            raise
        if ends_sessions:
            self._password_disabled = False
            self.refresh_from_db(fields=["token_version"])

    def validate_unique(self, exclude=None):
        super().validate_unique(exclude)
        # Forms (admin) show "already exists" on the email a person typed, not a database error.
        if self.email and (not exclude or "email" not in exclude):
            if User.objects.filter(email_key=email_key(self.email)).exclude(pk=self.pk).exists():
                raise ValidationError({"email": EMAIL_TAKEN})

    def validate_constraints(self, exclude=None):
        # The email_key constraint is validate_unique's, reported under "email" (email_key is in no form).
        super().validate_constraints(exclude={*(exclude or ()), "email_key"})

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


def _with_updated(kwargs: dict, field: str) -> dict:
    """save() kwargs with `field` added to update_fields, when only some fields are saved."""
    if kwargs.get("update_fields") is None:
        return kwargs
    return {**kwargs, "update_fields": {*kwargs["update_fields"], field}}


class ApiKeyManager(BaseAPIKeyManager):
    def assign_key(self, obj: "ApiKey") -> str:
        """The library's, but the primary key stays a UUID: it would be `<prefix>.<hash>`, naming the hash."""
        key, obj.prefix, obj.hashed_key = self.key_generator.generate()
        return key


class ApiKey(AbstractAPIKey):
    """A person's API key, sent as X-API-Key: `<prefix>.<secret>`. djangorestframework-api-key keeps only a
    SHA-512 hash of it and compares in constant time; the prefix, shown, finds the row. Revoked, never deleted,
    so a log line that names a key can still be traced to its owner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        indexes = [models.Index(fields=["user", "-created"], name="accounts_apikey_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"


class PasswordResetAsk(models.Model):
    """One ask for a reset link, saved the same whether or not an account uses the address, so asking does the
    same work either way; the worker turns it into an email for an eligible account, or drops it."""

    id = models.BigAutoField(primary_key=True)
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"password reset ask {self.pk}"
