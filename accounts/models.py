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


# --- Background jobs: account deletion and data export ------------------------------------------------------
# Each job is a row; the worker claims it (claim_token, claimed_until) and records every step before the next.
# accounts/services/jobs.py holds the claiming rules.


class ClaimedJob(models.Model):
    """What every background job row holds: when it is due, who holds it until when, and how it has failed."""

    attempts = models.PositiveIntegerField(default=0, editable=False, help_text="Failed attempts so far.")
    next_attempt_at = models.DateTimeField(default=timezone.now, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.CharField(max_length=500, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class DeletionState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class DeletionStep(models.TextChoices):
    LIST_ENTITIES = "list_entities", "List the entities upstream"
    DELETE_ENTITIES = "delete_entities", "Delete the listed entities upstream"
    PURGE_ACCOUNT = "purge_account", "Delete the account and its personal data"
    FINISHED = "finished", "Finished"


class AccountDeletion(ClaimedJob):
    """A person's account being deleted: their entities upstream first, then the account. `subject_id` is the id
    upstream knows them by; it stays (with no personal data) once the account is gone, as the record of it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="deletion", editable=False
    )
    subject_id = models.UUIDField(unique=True, editable=False)
    state = models.CharField(max_length=16, choices=DeletionState.choices, default=DeletionState.PENDING)
    step = models.CharField(max_length=32, choices=DeletionStep.choices, default=DeletionStep.LIST_ENTITIES)
    entities_to_delete = models.JSONField(default=list, blank=True, editable=False)
    entities_deleted = models.PositiveIntegerField(default=0, editable=False)
    # "your account is being deleted": spared when the rest of their email is purged, until it has been sent
    notice_email = models.ForeignKey(
        "post_office.Email", null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="accounts_deletion_due")]

    def __str__(self) -> str:
        return f"Deletion of {self.subject_id}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class DataExport(ClaimedJob):
    """One export of a person's data: built by the worker into `document` (JSON), downloadable until
    `expires_at`, then emptied."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="exports", editable=False)
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    document = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001  (null: none built or kept)
    document_bytes = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="accounts_export_due"),
            models.Index(fields=["user", "-created_at"], name="accounts_export_user_created"),
        ]
        constraints = [
            # at most one pending export per person, whatever races to make a second
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="pending"), name="accounts_export_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"Export {str(self.id)[:8]} ({self.status})"


class PasswordResetAsk(models.Model):
    """One ask for a reset link, saved the same whether or not an account uses the address, so asking does the
    same work either way; the worker turns it into an email for an eligible account, or drops it."""

    id = models.BigAutoField(primary_key=True)
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"password reset ask {self.pk}"
