"""Invites: a bearer token that opens signup up to `max_uses` times, and a record of each use."""

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

MAX_USES_LIMIT = 10_000
# The furthest an expiry may be set: far enough for any real invite, near enough that date arithmetic never overflows.
MAX_EXPIRES_IN_DAYS = 3650
MAX_EXPIRES_IN = timedelta(days=MAX_EXPIRES_IN_DAYS)
EXPIRY_TOO_FAR = f"The expiry must be at most {MAX_EXPIRES_IN_DAYS} days from now."


def generate_token() -> str:
    return secrets.token_urlsafe(32)


class InviteStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    USED_UP = "used_up", "Used up"
    REVOKED = "revoked", "Revoked"


def status_q(status: str, *, now: datetime) -> Q:
    """The condition for one status; precedence: revoked, then used up, then expired, else active."""
    not_revoked = Q(revoked_at__isnull=True)
    uses_left = Q(use_count__lt=F("max_uses"))
    expired = Q(expires_at__isnull=False, expires_at__lte=now)
    conditions = {
        InviteStatus.REVOKED: ~not_revoked,
        InviteStatus.USED_UP: not_revoked & ~uses_left,
        InviteStatus.EXPIRED: not_revoked & uses_left & expired,
        InviteStatus.ACTIVE: not_revoked & uses_left & ~expired,
    }
    return conditions[InviteStatus(status)]


class InviteQuerySet(models.QuerySet):
    def with_status(self, status: str, *, now: datetime | None = None) -> "InviteQuerySet":
        return self.filter(status_q(status, now=now or timezone.now()))

    def redeemable(self, *, now: datetime | None = None) -> "InviteQuerySet":
        return self.with_status(InviteStatus.ACTIVE, now=now)


class Invite(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    token = models.CharField(max_length=64, unique=True, default=generate_token, editable=False)
    email = models.EmailField(
        blank=True, help_text="Pre-fills the signup form; the invite is not locked to this address."
    )
    note = models.CharField(max_length=255, blank=True)
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invites_sent"
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=f"Empty: never expires. At most {MAX_EXPIRES_IN_DAYS} days from now."
    )
    max_uses = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_USES_LIMIT)]
    )
    use_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When its email was last queued (invites.services.invite_email_send), and that email in the outbox.
    last_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When its email was last queued for sending; null: never."
    )
    last_email = models.ForeignKey(
        "post_office.Email", null=True, blank=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )

    objects = InviteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]  # id breaks ties, so pages never overlap
        indexes = [models.Index(fields=["-created_at"], name="invites_created_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__gte=1, max_uses__lte=MAX_USES_LIMIT), name="invites_max_uses_range"
            ),
            # the last line of defence against over-redemption, whatever the code path
            models.CheckConstraint(condition=Q(use_count__lte=F("max_uses")), name="invites_use_count_within_max"),
        ]

    def __str__(self) -> str:
        return self.email or self.note or f"Invite {str(self.id)[:8]}"

    def clean(self) -> None:
        super().clean()
        if self._state.adding and self.expires_at is not None and self.expires_at <= timezone.now():
            raise ValidationError({"expires_at": "The expiry must be in the future."})
        if self.expires_at is not None and self.expires_at > timezone.now() + MAX_EXPIRES_IN:
            raise ValidationError({"expires_at": EXPIRY_TOO_FAR})
        if self.max_uses is not None and self.max_uses < self.use_count:
            raise ValidationError({"max_uses": f"Already used {self.use_count} times; max uses cannot be lower."})

    def status_at(self, now: datetime | None = None) -> str:
        """Mirrors `status_q`, so a row and a filter never disagree."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return InviteStatus.REVOKED
        if self.use_count >= self.max_uses:
            return InviteStatus.USED_UP
        if self.expires_at is not None and self.expires_at <= now:
            return InviteStatus.EXPIRED
        return InviteStatus.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at()

    @property
    def share_url(self) -> str:
        base = settings.FRONTEND_BASE_URL or settings.BASE_URL
        return f"{base}/personal/invite?token={self.token}"

    @property
    def inviter_name(self) -> str | None:
        """First name, else full name, else None; never the email, which the public preview must not show."""
        if self.inviter is None:
            return None
        return self.inviter.first_name or self.inviter.get_full_name() or None


class InviteRedemption(models.Model):
    """One row per use; the email is kept so the record survives the user's deletion."""

    invite = models.ForeignKey(Invite, on_delete=models.PROTECT, related_name="redemptions")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="invite_redemption"
    )
    email = models.EmailField()
    redeemed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["redeemed_at"]

    def __str__(self) -> str:
        return f"{self.email} at {self.redeemed_at:%Y-%m-%d %H:%M}"
