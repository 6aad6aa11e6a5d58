"""Refusals (429s and capacity 503s) by kind, and committed invite redemptions."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from wisdom.metrics.definitions import INVITE_REDEMPTIONS, REFUSALS


def observe_refusal(error: BaseException) -> None:
    """Counts a 429 by its kind, the error's code (e.g. throttled, entity_quota_exceeded); and a 503 that names a
    `code` in its body (a capacity reached, e.g. stream_capacity_reached; the database's 503 names none)."""
    status = getattr(error, "status_code", None)
    if status == 429 or (status == 503 and "code" in (getattr(error, "extra", None) or {})):
        REFUSALS.labels(str(getattr(type(error), "default_code", "throttled"))).inc()


def _redemption_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        transaction.on_commit(INVITE_REDEMPTIONS.inc)  # only a sign-up that committed is a redemption


# By label, so the project package imports no app (wisdom/tests/test_architecture.py).
post_save.connect(_redemption_saved, sender="invites.InviteRedemption", dispatch_uid="wisdom.metrics.redemptions")
