"""Exporting a person's data: the request, the worker's build (one step, renewing its claim after each upstream
call), the download, the expiry (README's "Exporting")."""

import json
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.errors import ExportDailyLimit, ExportInProgress, ExportNotFound
from accounts.models import DataExport, ExportStatus, User
from accounts.services.jobs import (
    Claim,
    JobRun,
    LostClaim,
    job_due_again_fields,
    job_fail,
    job_record,
    job_release,
    jobs_run_due,
)
from mail.services import email_enqueue
from personal.client import agents_client
from personal.errors import AgentsError, AgentsRefused
from personal.serializers import entity_public, message_public

logger = logging.getLogger(__name__)

FORMAT = "wisdom.personal-data-export"
FORMAT_VERSION = 1
MESSAGE_PAGE_SIZE = 200  # the most upstream answers in one page
READY_TEMPLATE = "accounts/email/export_ready"
IN_PROGRESS_RETRY_AFTER_SECONDS = 30
DAY = timedelta(days=1)
DUE = Q(status=ExportStatus.PENDING)


class ExportTooLarge(Exception):
    reason = "the document would exceed EXPORT_MAX_BYTES"


class ExportTooSlow(Exception):
    reason = "the document was not built within EXPORT_DEADLINE_SECONDS"


class CursorStuck(Exception):
    reason = "upstream answered the same page of messages again"


class AccountInactive(Exception):
    reason = "the account is inactive (being deleted, or deactivated by staff)"


class WorkerStopping(Exception):
    """The worker was asked to stop: the build is let go, to be made again by the next worker."""


# --- Asking, listing, downloading (requests) -----------------------------------------------------------------


def data_export_request(*, user: User) -> DataExport:
    """A new pending export; ExportInProgress (429) while one is pending, ExportDailyLimit (429) past
    EXPORT_DAILY_LIMIT in 24 hours."""
    now = timezone.now()
    recent = DataExport.objects.filter(user=user, created_at__gt=now - DAY)
    if recent.filter(status=ExportStatus.PENDING).exists():
        raise ExportInProgress(retry_after=IN_PROGRESS_RETRY_AFTER_SECONDS)
    created = sorted(recent.values_list("created_at", flat=True))
    if len(created) >= settings.EXPORT_DAILY_LIMIT:
        frees_at = created[len(created) - settings.EXPORT_DAILY_LIMIT] + DAY
        raise ExportDailyLimit(
            limit=settings.EXPORT_DAILY_LIMIT, retry_after=max(1, math.ceil((frees_at - now).total_seconds()))
        )
    try:
        with transaction.atomic():
            return DataExport.objects.create(user=user, created_at=now, next_attempt_at=now)
    except IntegrityError:  # a rival request made the one pending export first (accounts_export_one_pending)
        raise ExportInProgress(retry_after=IN_PROGRESS_RETRY_AFTER_SECONDS) from None


def data_export_status(*, export: DataExport, now=None) -> str:
    """A ready export past its expiry is expired, also before the worker has emptied it."""
    now = now or timezone.now()
    if export.status == ExportStatus.READY and export.expires_at is not None and export.expires_at <= now:
        return ExportStatus.EXPIRED
    return export.status


def data_export_download_path(*, export: DataExport) -> str:
    return reverse("auth-me-export-download", kwargs={"id": export.pk})


def data_export_document(*, user: User, export_id) -> DataExport:
    """The caller's own ready, unexpired export with its document; ExportNotFound for anything else."""
    export = DataExport.objects.filter(pk=export_id, user=user, status=ExportStatus.READY).first()
    if export is None or export.document is None or data_export_status(export=export) != ExportStatus.READY:
        raise ExportNotFound()
    return export


def data_export_retry(*, export: DataExport) -> bool:
    """Staff: a failed export is due again now, attempts counted afresh; False when it was not failed (or the
    person has another pending)."""
    try:
        with transaction.atomic():
            return bool(
                DataExport.objects.filter(pk=export.pk, status=ExportStatus.FAILED).update(
                    status=ExportStatus.PENDING, **job_due_again_fields()
                )
            )
    except IntegrityError:
        return False


# --- Building (the worker) -----------------------------------------------------------------------------------


def data_exports_run_due(*, keep_going: Callable[[], bool] = lambda: True) -> JobRun:
    """Empties expired exports, then builds every pending one that is due, one at a time."""
    data_exports_expire()
    return jobs_run_due(model=DataExport, due=DUE, carry_out=_build, keep_going=keep_going)


def data_exports_expire() -> int:
    """Ready exports past their expiry lose their document and are marked expired; returns how many."""
    return DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=timezone.now()).update(
        status=ExportStatus.EXPIRED, document=None, updated_at=timezone.now()
    )


def _build(*, claim: Claim, run: JobRun, keep_going: Callable[[], bool]) -> None:
    export = DataExport.objects.select_related("user").defer("document").get(pk=claim.pk)
    attempts = export.attempts
    try:
        if not export.user.is_active:
            raise AccountInactive()
        budget = _Budget(keep_going=keep_going)
        text = _document_text(user=export.user, budget=budget, heartbeat=lambda: job_record(claim=claim))
        now = timezone.now()
        expires_at = now + timedelta(days=settings.EXPORT_DOWNLOAD_DAYS)
        with transaction.atomic():
            job_release(
                claim=claim,
                status=ExportStatus.READY,
                document=text,
                document_bytes=len(text.encode()),
                completed_at=now,
                expires_at=expires_at,
                last_error="",
            )
            email_enqueue(
                to=export.user.email,
                template=READY_TEMPLATE,
                context={
                    "first_name": export.user.first_name,
                    "download_url": settings.BASE_URL + data_export_download_path(export=export),
                    "expires_at": expires_at,
                },
            )
        run.done += 1
        logger.info("export %s ready (%s bytes)", claim.pk, len(text))
    except LostClaim:
        logger.warning("export %s: the claim ran out and another worker took it over", claim.pk)
    except WorkerStopping:
        job_release(claim=claim)
    except (AgentsError, ExportTooLarge, ExportTooSlow, CursorStuck, AccountInactive, ValueError, TypeError) as error:
        _record_failure(claim=claim, error=error, attempts=attempts, run=run)


def _record_failure(*, claim: Claim, error: Exception, attempts: int, run: JobRun) -> None:
    permanent = isinstance(error, ExportTooLarge | AccountInactive)  # trying again would fail the same way
    try:
        retrying = job_fail(
            claim=claim,
            error=error,
            attempts=attempts,
            max_attempts=attempts + 1 if permanent else settings.EXPORT_MAX_ATTEMPTS,
            failed_fields={"status": ExportStatus.FAILED},
        )
    except LostClaim:
        return  # another worker has it now (or the account went); its own attempt counts
    if retrying:
        run.retrying += 1
        logger.warning("export %s failed (%s); retrying later", claim.pk, type(error).__name__)
    else:
        run.failed += 1
        logger.error("export %s failed (%s); given up", claim.pk, type(error).__name__)


class _Budget:
    """The build's deadline and size cap, checked as the document grows."""

    def __init__(self, *, keep_going: Callable[[], bool]):
        self.gives_up_at = time.monotonic() + settings.EXPORT_DEADLINE_SECONDS
        self.keep_going = keep_going
        self.bytes = 0

    def add(self, value) -> None:
        self.bytes += len(json.dumps(value, ensure_ascii=False).encode())
        if self.bytes > settings.EXPORT_MAX_BYTES:
            raise ExportTooLarge()

    def check_time(self) -> None:
        if time.monotonic() > self.gives_up_at:
            raise ExportTooSlow()
        if not self.keep_going():
            raise WorkerStopping()


def _document_text(*, user: User, budget: _Budget, heartbeat: Callable[[], None]) -> str:
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": timezone.now().isoformat(),
        "account": _account(user),
        "api_keys": _api_keys(user),
        "invites": _invites(user),
    }
    budget.add(document)
    document["entities"] = _entities(user=user, budget=budget, heartbeat=heartbeat)
    text = json.dumps(document, ensure_ascii=False, indent=1)
    if len(text.encode()) > settings.EXPORT_MAX_BYTES:
        raise ExportTooLarge()
    return text


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _account(user: User) -> dict:
    return {
        "id": str(user.pk),
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "plan": user.plan,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "updated_at": _iso(user.updated_at),
    }


def _api_keys(user: User) -> list[dict]:
    """Names, prefixes and dates; never a hash."""
    return [
        {
            "id": str(key.pk),
            "name": key.name,
            "prefix": key.prefix,
            "created_at": _iso(key.created),
            "expires_at": _iso(key.expiry_date),
            "last_used_at": _iso(key.last_used_at),
            "revoked_at": _iso(key.revoked_at),
        }
        for key in user.api_keys.order_by("created", "pk")
    ]


def _invites(user: User) -> dict:
    """Invites the person issued (never their tokens: bearer secrets) and the one they redeemed. Read through the
    relations invites declares, so accounts imports nothing from invites."""
    issued = [
        {
            "id": str(invite.pk),
            "email": invite.email,
            "note": invite.note,
            "created_at": _iso(invite.created_at),
            "expires_at": _iso(invite.expires_at),
            "max_uses": invite.max_uses,
            "use_count": invite.use_count,
            "revoked_at": _iso(invite.revoked_at),
        }
        for invite in user.invites_sent.order_by("created_at", "pk")
    ]
    redemption = getattr(user, "invite_redemption", None)
    redeemed = (
        [
            {
                "invite_id": str(redemption.invite_id),
                "email": redemption.email,
                "redeemed_at": _iso(redemption.redeemed_at),
            }
        ]
        if redemption is not None
        else []
    )
    return {"issued": issued, "redeemed": redeemed}


def _entities(*, user: User, budget: _Budget, heartbeat: Callable[[], None]) -> list[dict]:
    client = agents_client()
    budget.check_time()
    listed = client.entity_list(user_id=user.pk)
    heartbeat()
    entities = []
    for entity in listed:
        public = entity_public(entity)
        name = public.get("name")
        if not isinstance(name, str):
            raise TypeError("upstream listed an entity without a name")
        budget.add(public)
        try:
            public["messages"] = _messages(client=client, user=user, name=name, budget=budget, heartbeat=heartbeat)
        except AgentsRefused as refused:
            if refused.status_code != 404:
                raise
            continue  # deleted since it was listed
        entities.append(public)
    return entities


def _messages(*, client, user: User, name: str, budget: _Budget, heartbeat: Callable[[], None]) -> list[dict]:
    """Every message, oldest first: pages of the newest first, each next page before the oldest seen."""
    pages: list[list[dict]] = []
    before: str | None = None
    while True:
        budget.check_time()
        page = [
            message_public(m)
            for m in client.message_list(user_id=user.pk, name=name, limit=MESSAGE_PAGE_SIZE, before=before)
        ]
        heartbeat()
        if not page:
            break
        budget.add(page)
        pages.append(page)
        if len(page) < MESSAGE_PAGE_SIZE:
            break
        cursor = page[0].get("id")
        if not isinstance(cursor, str) or cursor == before:
            raise CursorStuck()
        before = cursor
    return [message for page in reversed(pages) for message in page]
