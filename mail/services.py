"""The outbox: email is queued in the database in the transaction of the change that causes it, and sent by
`manage.py mail_worker`, so a request never waits on a mail server and a mail server that is down loses nothing.

django-post-office holds the queue (its Email rows, every attempt in its Log, both shown in the admin). This module
renders our templates into it and runs the sending policy: claim one due email at a time (skipping any another
worker holds), send it through Django's email backend (each SMTP wait bounded by EMAIL_TIMEOUT, the whole send by
MAIL_SEND_DEADLINE_SECONDS, which the claim outlasts), and on failure retry after MAIL_RETRY_FIRST_SECONDS,
doubling the gap up to MAIL_RETRY_MAX_SECONDS; an email still unsent MAIL_GIVE_UP_SECONDS after it was queued, or
refused for good (a 5xx for its recipient or content), is marked failed. Delivery is at least once: only a worker
that dies (or hits the deadline) between the server's acceptance and recording it sends an email twice.
"""

import logging
import re
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from post_office.models import PRIORITY, STATUS, Email, Log

from mail.signals import outbox_filling

logger = logging.getLogger(__name__)

WAITING = (STATUS.queued, STATUS.requeued)
LOG_MESSAGE_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(slots=True)
class OutboxRun:
    """What one pass of the worker did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


# --- Queueing ---------------------------------------------------------------------------------------------


def email_render(*, template: str, context: dict) -> RenderedEmail:
    """`<template>.subject.txt`, `.txt` and `.html`, with the product name in the context."""
    context = {"product_name": settings.PRODUCT_NAME, **context}
    subject = render_to_string(f"{template}.subject.txt", context)
    return RenderedEmail(
        subject=re.sub(r"\s+", " ", subject).strip(),  # one line: a newline would end the header
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
    )


def email_build(*, to: str, template: str, context: dict) -> Email:
    """An unsaved, validated outbox email. Built as a model, not through post_office's mail.send, which would
    render the already rendered text once more as a template (a name holding `{{` would be read as one)."""
    rendered = email_render(template=template, context=context)
    email = Email(
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        subject=rendered.subject,
        message=rendered.text,
        html_message=rendered.html,
        status=STATUS.queued,
        priority=PRIORITY.medium,
    )
    email.full_clean()
    return email


def email_enqueue(*, to: str, template: str, context: dict) -> Email:
    """Queues an email. Call it inside the transaction of the change that causes it: both exist, or neither."""
    email = email_build(to=to, template=template, context=context)
    email.save()
    return email


# --- Sending (the worker) ----------------------------------------------------------------------------------


def retry_delay(*, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: the first gap, doubled each time, capped."""
    seconds = settings.MAIL_RETRY_FIRST_SECONDS * 2 ** min(attempts - 1, 32)
    return timedelta(seconds=min(seconds, settings.MAIL_RETRY_MAX_SECONDS))


CLAIM_MARGIN_SECONDS = 30  # past the send's deadline: the database writes around it, a slow DNS answer


class SendDeadlineExceeded(TimeoutError):
    """The whole send took longer than MAIL_SEND_DEADLINE_SECONDS; its connection was cut."""


def claim_seconds() -> float:
    """How long a claimed email is left to the worker that claimed it: longer than any one send can take (its
    total deadline); after that a worker that died has let it go."""
    return settings.MAIL_SEND_DEADLINE_SECONDS + CLAIM_MARGIN_SECONDS


def outbox_send_due(*, keep_going: Callable[[], bool] = lambda: True) -> OutboxRun:
    """Sends every email that is due now, one at a time; each failure is rescheduled, never retried in this pass."""
    run = OutboxRun()
    for receiver, result in outbox_filling.send_robust(sender=None):
        if isinstance(result, Exception):  # one app's defect must not stop the outbox; the next pass tries again
            logger.error("mail: %s failed before sending: %s", receiver.__qualname__, type(result).__name__)
    run.failed += outbox_give_up_stale()
    connection = get_connection()  # settings.EMAIL_BACKEND; the SMTP backend applies EMAIL_TIMEOUT
    attempted: list[int] = []
    while keep_going():
        email = _claim_next_due(exclude=attempted)
        if email is None:
            break
        attempted.append(email.pk)
        _send_one(email=email, connection=connection, run=run)
    return run


def outbox_give_up_stale() -> int:
    """Marks failed every email still unsent MAIL_GIVE_UP_SECONDS after it was queued (the worker was down that
    long, or the last retry failed past it); returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.MAIL_GIVE_UP_SECONDS)
    given_up = 0
    for email_id in Email.objects.filter(status__in=WAITING, created__lte=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            if Email.objects.filter(pk=email_id, status__in=WAITING).update(
                status=STATUS.failed, scheduled_time=None, last_updated=timezone.now()
            ):
                Log.objects.create(
                    email_id=email_id,
                    status=STATUS.failed,
                    exception_type="GaveUp",
                    message=f"Not sent within {_duration(settings.MAIL_GIVE_UP_SECONDS)} of being queued; given up.",
                )
                given_up += 1
        logger.error("email %s not sent within %ss of being queued: given up", email_id, settings.MAIL_GIVE_UP_SECONDS)
    return given_up


def _claim_next_due(*, exclude: list[int]) -> Email | None:
    now = timezone.now()
    with transaction.atomic():
        email = (
            Email.objects.select_for_update(skip_locked=True)
            .filter(status__in=WAITING)
            .filter(Q(scheduled_time__isnull=True) | Q(scheduled_time__lte=now))
            .exclude(pk__in=exclude)
            .order_by(F("scheduled_time").asc(nulls_first=True), "pk")
            .first()
        )
        if email is None:
            return None
        # Claimed: other workers skip it until the claim runs out (a worker that died lets it go then).
        Email.objects.filter(pk=email.pk).update(scheduled_time=now + timedelta(seconds=claim_seconds()))
    return email


def email_send_within_deadline(*, connection, message, seconds: float) -> None:
    """Sends through `connection`, cutting it (an abortable backend: mail.backends) once `seconds` have passed;
    then raises SendDeadlineExceeded. A send cut after the server accepted it counts as failed (and is retried)."""
    lock = threading.Lock()
    state = {"done": False, "cut": False}

    def cut() -> None:
        with lock:
            if state["done"]:
                return
            state["cut"] = True
        abort = getattr(connection, "abort", None)
        if abort is not None:
            abort()

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.send_messages([message])
    except Exception:
        if state["cut"]:
            raise SendDeadlineExceeded(f"Not sent within the send deadline of {seconds:g} s.") from None
        raise
    finally:
        with lock:
            state["done"] = True
        timer.cancel()
    if state["cut"]:  # the last reply was read as the connection was cut: sent, and the connection is gone
        _close_quietly(connection)


def _send_one(*, email: Email, connection, run: OutboxRun) -> None:
    try:
        email_send_within_deadline(
            connection=connection, message=email.email_message(), seconds=settings.MAIL_SEND_DEADLINE_SECONDS
        )
    except Exception as exc:  # any backend's failure: recorded, retried; the worker goes on
        _close_quietly(connection)
        if _record_failure(email=email, error=exc):
            run.retrying += 1
        else:
            run.failed += 1
        return
    now = timezone.now()
    Email.objects.filter(pk=email.pk).update(status=STATUS.sent, scheduled_time=None, last_updated=now)
    Log.objects.create(email=email, status=STATUS.sent, message="")
    run.sent += 1
    logger.info("email %s sent (attempt %s)", email.pk, (email.number_of_retries or 0) + 1)


def _record_failure(*, email: Email, error: Exception) -> bool:
    """Schedules the next attempt (True), or marks the email failed for good (False)."""
    now = timezone.now()
    attempts = (email.number_of_retries or 0) + 1
    permanent = _is_permanent(error)
    too_old = now - email.created >= timedelta(seconds=settings.MAIL_GIVE_UP_SECONDS)
    retry = not (permanent or too_old)
    Email.objects.filter(pk=email.pk).update(
        status=STATUS.requeued if retry else STATUS.failed,
        number_of_retries=attempts,
        scheduled_time=now + retry_delay(attempts=attempts) if retry else None,
        last_updated=now,
    )
    reason = f"{type(error).__name__}: {error}"[:LOG_MESSAGE_MAX_CHARS]
    if not retry:
        reason = f"{reason} (given up: {'refused for good' if permanent else 'no success within the give-up time'})"
    Log.objects.create(email=email, status=STATUS.failed, exception_type=type(error).__name__, message=reason)
    if retry:
        wait = retry_delay(attempts=attempts).total_seconds()
        logger.warning(
            "email %s attempt %s failed (%s); retrying in %gs", email.pk, attempts, type(error).__name__, wait
        )
    else:
        logger.error("email %s attempt %s failed (%s); given up", email.pk, attempts, type(error).__name__)
    return retry


def _is_permanent(error: Exception) -> bool:
    """A 5xx for every recipient, or for the content: sending again cannot succeed. Everything else (the server
    down or slow, a 4xx, a login refused while its settings are being fixed) is retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: S110  (a connection that broke cannot be closed cleanly; the next send opens anew)
        pass


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def outbox_requeue(*, email_ids: list[int]) -> int:
    """Queues emails again (a failed one, or a sent one to send anew): due now, with a fresh day to succeed in
    (their attempts so far stay in the log). Returns how many."""
    now = timezone.now()
    return Email.objects.filter(pk__in=email_ids).update(
        status=STATUS.queued, scheduled_time=None, number_of_retries=0, created=now, last_updated=now
    )
