"""Claiming background job rows (accounts.models.ClaimedJob: deletions, exports), as README's "Safe with several
workers and after a kill" describes. Every write after the claim names its token, so a worker whose lease was
taken over writes nothing more (`LostClaim`)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model, Q
from django.utils import timezone

ERROR_MAX_CHARS = 500


class LostClaim(Exception):
    """The row is no longer this worker's: its lease ran out and another worker took it, or staff changed it."""


@dataclass(slots=True)
class JobRun:
    """What one pass of a job did."""

    done: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class Claim:
    model: type[Model]
    pk: uuid.UUID
    token: uuid.UUID


def lease() -> timedelta:
    return timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def retry_delay(*, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: the first gap, doubled each time, capped."""
    seconds = settings.JOB_RETRY_FIRST_SECONDS * 2 ** min(max(attempts, 1) - 1, 32)
    return timedelta(seconds=min(seconds, settings.JOB_RETRY_MAX_SECONDS))


def jobs_run_due(*, model: type[Model], due: Q, carry_out: Callable, keep_going: Callable[[], bool]) -> JobRun:
    """Claims and carries out every job of `model` that is due, one at a time; a failure is rescheduled by
    `carry_out`, not retried in this pass."""
    run = JobRun()
    attempted: list = []
    while keep_going():
        claim = job_claim_next(model=model, due=due, exclude=attempted)
        if claim is None:
            break
        attempted.append(claim.pk)
        carry_out(claim=claim, run=run, keep_going=keep_going)
    return run


def job_claim_next(*, model: type[Model], due: Q, exclude: list) -> Claim | None:
    """Claims one row matching `due` whose time has come and that nobody holds; None when there is none."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    candidates = model.objects.filter(due, free, next_attempt_at__lte=now).exclude(pk__in=exclude)
    while True:
        with transaction.atomic():
            rows = candidates.order_by("next_attempt_at", "pk")
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            pk = rows.values_list("pk", flat=True).first()
            if pk is None:
                return None
            token = uuid.uuid4()
            taken = model.objects.filter(free, pk=pk).update(claim_token=token, claimed_until=now + lease())
        if taken:
            return Claim(model=model, pk=pk, token=token)
        exclude = [*exclude, pk]  # a rival took it between the read and the update (SQLite): the next one


def job_record(*, claim: Claim, **fields) -> None:
    """Writes `fields` to the claimed row and renews the lease; LostClaim when the row is no longer ours."""
    updated = claim.model.objects.filter(pk=claim.pk, claim_token=claim.token).update(
        claimed_until=timezone.now() + lease(), updated_at=timezone.now(), **fields
    )
    if not updated:
        raise LostClaim()


def job_due_again_fields() -> dict:
    """What a staff retry writes to a failed job: due now, attempts counted afresh, claimed by nobody."""
    now = timezone.now()
    return {"attempts": 0, "next_attempt_at": now, "claim_token": None, "claimed_until": None, "updated_at": now}


def job_release(*, claim: Claim, **fields) -> None:
    """Writes `fields` and lets the row go (another worker may take it when it is next due)."""
    updated = claim.model.objects.filter(pk=claim.pk, claim_token=claim.token).update(
        claim_token=None, claimed_until=None, updated_at=timezone.now(), **fields
    )
    if not updated:
        raise LostClaim()


def job_fail(*, claim: Claim, error: BaseException, attempts: int, max_attempts: int, failed_fields: dict) -> bool:
    """Records a failed attempt: retried after a back-off (True), or, at `max_attempts`, `failed_fields` are
    written and the row is left failed (False). LostClaim when the row is no longer ours (nothing is written)."""
    attempts += 1
    message = error_text(error)
    if attempts >= max_attempts:
        job_release(claim=claim, attempts=attempts, last_error=message, **failed_fields)
        return False
    job_release(
        claim=claim,
        attempts=attempts,
        last_error=message,
        next_attempt_at=timezone.now() + retry_delay(attempts=attempts),
    )
    return True


def error_text(error: BaseException) -> str:
    """The error's class and its internal reason (method, path, status), never a body or a header."""
    return f"{type(error).__name__}: {getattr(error, 'reason', '') or error}"[:ERROR_MAX_CHARS]
