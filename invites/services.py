"""Invite rules: issuing, sending by email, redeeming (the one transaction), revoking and extending."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.errors import EmailTaken
from accounts.models import User
from accounts.selectors import user_email_taken
from accounts.services import user_create
from invites import selectors
from invites.errors import (
    EMAIL_REQUIRED,
    EMAIL_REQUIRED_TO_SEND,
    InviteGone,
    InviteNotFound,
    InviteNotSendable,
    InviteSentRecently,
)
from invites.models import MAX_EXPIRES_IN, MAX_EXPIRES_IN_DAYS, Invite, InviteRedemption, InviteStatus
from mail.services import email_enqueue

EXTEND_BY = timedelta(days=7)
INVITE_EMAIL_TEMPLATE = "invites/email/invite"


def invite_create(
    *,
    inviter: User | None = None,
    email: str = "",
    note: str = "",
    max_uses: int = 1,
    expires_at: datetime | None = None,
    expires_in: timedelta | None = None,
    send_email: bool = False,
) -> Invite:
    """A new invite; `expires_in` counts from now. Raises Django's ValidationError (a 400) for bad input.
    With `send_email`, its email is queued in the same transaction (invite_email_send)."""
    if send_email and not (email or "").strip():
        raise DjangoValidationError({"email": [EMAIL_REQUIRED_TO_SEND]})
    if expires_at is not None and expires_in is not None:
        raise DjangoValidationError({"expires_at": "Give either an expiry time or a duration, not both."})
    if expires_in is not None:
        if expires_in <= timedelta(0):
            raise DjangoValidationError({"expires_in": "The duration must be positive."})
        if expires_in > MAX_EXPIRES_IN:
            raise DjangoValidationError({"expires_in": f"The duration must be at most {MAX_EXPIRES_IN_DAYS} days."})
        expires_at = timezone.now() + expires_in
    invite = Invite(
        inviter=inviter if isinstance(inviter, User) else None,
        email=(email or "").strip(),
        note=(note or "").strip(),
        max_uses=max_uses,
        expires_at=expires_at,
    )
    invite.full_clean()
    with transaction.atomic():
        invite.save(force_insert=True)
        if send_email:
            invite_email_send(invite=invite)
    return invite


def invite_email_send(*, invite: Invite) -> Invite:
    """Queues the invite's email (the share link, who invites, the expiry) to its address, recording when.

    InviteNotSendable (409) when it has no email, or is revoked, expired or used up; InviteSentRecently (429)
    within INVITE_RESEND_INTERVAL_SECONDS of the last sending. The record and the queued email are one
    transaction, and its conditional UPDATE lets one of two simultaneous sends through."""
    if not invite.email:
        raise InviteNotSendable()
    now = timezone.now()
    interval = timedelta(seconds=settings.INVITE_RESEND_INTERVAL_SECONDS)
    with transaction.atomic():
        taken = (
            Invite.objects.redeemable(now=now)
            .filter(pk=invite.pk)
            .filter(Q(last_sent_at__isnull=True) | Q(last_sent_at__lte=now - interval))
            .update(last_sent_at=now)
        )
        if not taken:
            invite.refresh_from_db(fields=["use_count", "max_uses", "expires_at", "revoked_at", "last_sent_at"])
            if invite.status_at(now) != InviteStatus.ACTIVE:
                raise InviteNotSendable.for_status(invite.status_at(now))
            raise InviteSentRecently(
                wait_seconds=max(1, math.ceil((invite.last_sent_at + interval - now).total_seconds()))
            )
        email = email_enqueue(to=invite.email, template=INVITE_EMAIL_TEMPLATE, context=_invite_email_context(invite))
        Invite.objects.filter(pk=invite.pk).update(last_email=email)
    invite.last_sent_at, invite.last_email = now, email
    return invite


def invite_email_send_by_id(*, invite_id) -> Invite:
    invite = selectors.invite_get(invite_id=invite_id)
    if invite is None:
        raise InviteNotFound()
    return invite_email_send(invite=invite)


def _invite_email_context(invite: Invite) -> dict:
    return {"inviter_name": invite.inviter_name, "share_url": invite.share_url, "expires_at": invite.expires_at}


def invite_get_open(*, token: str) -> Invite:
    """The invite behind a token if it can still be used: else 404 (unknown) or 410 (saying why)."""
    invite = selectors.invite_get_by_token(token=token)
    if invite is None:
        raise InviteNotFound()
    if invite.status != InviteStatus.ACTIVE:
        raise InviteGone.for_status(invite.status)
    return invite


def invite_redeem(*, token: str, password: str, first_name: str, last_name: str = "", email: str = "") -> User:
    """A new account from one use of the invite; the use and the account exist together or not at all."""
    invite = invite_get_open(token=token)

    email = (email or invite.email).strip()
    if not email:
        raise DjangoValidationError({"email": EMAIL_REQUIRED})
    _validate_new_password(password=password, email=email, first_name=first_name, last_name=last_name)
    # Last of the checks, so only an otherwise valid signup learns the email is taken; before a use is taken.
    if user_email_taken(email=email):
        raise EmailTaken()
    # Hashing is slow on purpose; done outside the transaction, which holds the invite's row lock.
    password_hash = make_password(password)

    # user_create raises EmailTaken (409) if a rival signed up with this email meanwhile; the use rolls back.
    with transaction.atomic():
        if not _take_one_use(invite=invite):
            raise InviteGone.for_status(_current_status(invite=invite))
        user = user_create(email=email, password_hash=password_hash, first_name=first_name, last_name=last_name)
        InviteRedemption.objects.create(invite=invite, user=user, email=user.email)
    return user


def invite_revoke(*, invite: Invite) -> Invite:
    """Stops the invite at once; idempotent, the first revocation time is kept."""
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    invite.refresh_from_db(fields=["revoked_at"])
    return invite


def invite_revoke_by_id(*, invite_id) -> Invite:
    invite = selectors.invite_get(invite_id=invite_id)
    if invite is None:
        raise InviteNotFound()
    return invite_revoke(invite=invite)


def invite_extend(*, invite: Invite, by: timedelta = EXTEND_BY) -> Invite:
    """Pushes the expiry out by `by`, counted from now when it has already passed, and at most to the maximum
    (MAX_EXPIRES_IN from now). Never-expiring stays so; an expiry already at or beyond the maximum is left alone."""
    with transaction.atomic():
        locked = Invite.objects.select_for_update().get(pk=invite.pk)
        if locked.expires_at is not None:
            now = timezone.now()
            ceiling = now + MAX_EXPIRES_IN
            start = max(locked.expires_at, now)
            if start < ceiling:
                # compared before adding: a far-future expiry (year 9999) plus `by` would overflow
                locked.expires_at = start + by if start <= ceiling - by else ceiling
                locked.save(update_fields=["expires_at"])
    invite.expires_at = locked.expires_at
    return invite


def _take_one_use(*, invite: Invite) -> bool:
    """The conditional UPDATE: on PostgreSQL concurrent takers queue on the row and re-check the condition."""
    return Invite.objects.redeemable().filter(pk=invite.pk).update(use_count=F("use_count") + 1) == 1


def _current_status(*, invite: Invite) -> str:
    invite.refresh_from_db(fields=["use_count", "max_uses", "expires_at", "revoked_at"])
    status = invite.status
    # Only reachable if the invite changed back between the update and this read; report it as used.
    return InviteStatus.USED_UP if status == InviteStatus.ACTIVE else status


def _validate_new_password(*, password: str, email: str, first_name: str, last_name: str) -> None:
    unsaved = User(email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=unsaved)
    except DjangoValidationError as exc:
        raise DjangoValidationError({"password": exc.messages}) from None
