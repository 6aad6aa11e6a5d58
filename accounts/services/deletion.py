"""Deleting an account: the owner's request, then the worker's steps (README's "Deleting"), each recorded in the
AccountDeletion row before the next, so a worker killed anywhere resumes at the recorded step."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from post_office.models import STATUS, Email
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.emails import email_key
from accounts.errors import WRONG_PASSWORD, AccountHasNoPassword
from accounts.models import AccountDeletion, ApiKey, DeletionState, DeletionStep, PasswordResetAsk, User
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
from accounts.services.login_limits import login_failure_record, login_failures_check, login_failures_forget
from accounts.signals import account_purging
from mail.services import email_enqueue
from personal.client import agents_client
from personal.errors import AgentsError, AgentsRefused

logger = logging.getLogger(__name__)

NOTICE_TEMPLATE = "accounts/email/account_deleting"
# Listing again after deleting everything listed: more rounds than this in one run means upstream keeps listing
# what it said it deleted; the attempt fails (and is retried later) rather than spin.
MAX_LIST_ROUNDS = 5
DUE = Q(state=DeletionState.PENDING)


class UpstreamKeepsEntities(Exception):
    reason = "upstream still lists entities it answered as deleted"


# --- Asking (the request) ------------------------------------------------------------------------------------


def account_deletion_request(*, user: User, password: str, address: str) -> AccountDeletion:
    """Checks the password (a wrong one counts as a failed login), then at once: every token, key and the password
    stop working, the account is deactivated, the deletion is queued for the worker and the notice email too."""
    if not user.has_usable_password():
        raise AccountHasNoPassword()
    login_failures_check(address=address, email=user.email)
    if not user.check_password(password):
        login_failure_record(address=address, email=user.email)
        raise DjangoValidationError({"password": [WRONG_PASSWORD]})
    now = timezone.now()
    unusable = make_password(None)
    with transaction.atomic():
        # the row lock queues a second request racing this one: it finds the deletion under way and adds nothing
        if not User.objects.select_for_update().filter(pk=user.pk, is_active=True).exists():
            return AccountDeletion.objects.get(subject_id=user.pk)
        User.objects.filter(pk=user.pk).update(
            is_active=False, password=unusable, token_version=F("token_version") + 1, updated_at=now
        )
        ApiKey.objects.filter(user=user, revoked=False).update(revoked=True, revoked_at=now)
        notice = email_enqueue(
            to=user.email, template=NOTICE_TEMPLATE, context={"first_name": user.first_name, "requested_at": now}
        )
        # one row per person: asked again (the account reactivated by staff meanwhile), the same row starts over
        deletion, _ = AccountDeletion.objects.update_or_create(
            subject_id=user.pk,
            defaults={
                "user": user,
                "state": DeletionState.PENDING,
                "step": DeletionStep.LIST_ENTITIES,
                "requested_at": now,
                "next_attempt_at": now,
                "attempts": 0,
                "notice_email": notice,
            },
        )
    logger.info("account %s: deletion requested", user.pk)
    return deletion


def account_deletion_retry(*, deletion: AccountDeletion) -> bool:
    """Staff: a failed deletion is due again now, with its attempts counted afresh. False when it was not failed."""
    return bool(
        AccountDeletion.objects.filter(pk=deletion.pk, state=DeletionState.FAILED).update(
            state=DeletionState.PENDING, **job_due_again_fields()
        )
    )


# --- Carrying it out (the worker) ----------------------------------------------------------------------------


def account_deletions_run_due(*, keep_going: Callable[[], bool] = lambda: True) -> JobRun:
    """Carries out every deletion that is due, one at a time; a failure is rescheduled, not retried in this pass."""
    return jobs_run_due(model=AccountDeletion, due=DUE, carry_out=_carry_out, keep_going=keep_going)


def _carry_out(*, claim: Claim, run: JobRun, keep_going: Callable[[], bool]) -> None:
    deletion = AccountDeletion.objects.get(pk=claim.pk)
    client = agents_client()
    rounds = 0
    try:
        while True:
            if not keep_going():
                job_release(claim=claim)  # stopping: the next worker resumes at the recorded step
                return
            if deletion.step == DeletionStep.LIST_ENTITIES:
                rounds += 1
                if rounds > MAX_LIST_ROUNDS:
                    raise UpstreamKeepsEntities()
                names = [entity.get("name") for entity in client.entity_list(user_id=deletion.subject_id)]
                deletion.entities_to_delete = names
                deletion.step = DeletionStep.DELETE_ENTITIES if names else DeletionStep.PURGE_ACCOUNT
                job_record(claim=claim, step=deletion.step, entities_to_delete=names)
            elif deletion.step == DeletionStep.DELETE_ENTITIES:
                if not deletion.entities_to_delete:
                    deletion.step = DeletionStep.LIST_ENTITIES  # confirm upstream holds nothing more
                    job_record(claim=claim, step=deletion.step)
                    continue
                name = deletion.entities_to_delete[0]
                _entity_delete(client=client, user_id=deletion.subject_id, name=name)
                deletion.entities_to_delete = deletion.entities_to_delete[1:]
                deletion.entities_deleted += 1
                job_record(
                    claim=claim,
                    entities_to_delete=deletion.entities_to_delete,
                    entities_deleted=F("entities_deleted") + 1,
                )
            elif deletion.step == DeletionStep.PURGE_ACCOUNT:
                _purge(claim=claim, deletion=deletion)
                run.done += 1
                logger.info(
                    "account %s: deleted (%s entities upstream)", deletion.subject_id, deletion.entities_deleted
                )
                return
            else:  # finished already (staff or a rival closed it): nothing to do
                job_release(claim=claim)
                return
    except LostClaim:
        logger.warning("account deletion %s: the claim ran out and another worker took it over", claim.pk)
    except (AgentsError, UpstreamKeepsEntities, ValueError, TypeError) as error:
        _record_failure(claim=claim, error=error, run=run)


def _record_failure(*, claim: Claim, error: Exception, run: JobRun) -> None:
    try:
        retrying = job_fail(
            claim=claim,
            error=error,
            attempts=AccountDeletion.objects.filter(pk=claim.pk).values_list("attempts", flat=True).first() or 0,
            max_attempts=settings.ACCOUNT_DELETION_MAX_ATTEMPTS,
            failed_fields={"state": DeletionState.FAILED},
        )
    except LostClaim:
        return  # another worker has it now; its own attempt counts
    if retrying:
        run.retrying += 1
        logger.warning("account deletion %s failed (%s); retrying later", claim.pk, type(error).__name__)
    else:
        run.failed += 1
        logger.error("account deletion %s failed (%s); given up", claim.pk, type(error).__name__)


def _entity_delete(*, client, user_id, name) -> None:
    """One DELETE upstream; a 404 means it is gone already (deleted by an earlier attempt, or by its owner)."""
    if not isinstance(name, str):
        raise TypeError("upstream listed an entity without a name")
    try:
        client.entity_delete(user_id=user_id, name=name)
    except AgentsRefused as refused:
        if refused.status_code != 404:
            raise


def _purge(*, claim: Claim, deletion: AccountDeletion) -> None:
    """The account row and its personal data, in one transaction with the row that says it is done."""
    with transaction.atomic():
        locked = AccountDeletion.objects.select_for_update().filter(pk=claim.pk, claim_token=claim.token).first()
        if locked is None:
            raise LostClaim()
        user = User.objects.select_for_update().filter(pk=deletion.subject_id).first()
        if user is not None:
            _personal_data_delete(user=user, spare_email_id=locked.notice_email_id)
            user.delete()
            email = user.email
            transaction.on_commit(lambda: login_failures_forget(email=email))
        job_release(
            claim=claim,
            state=DeletionState.DONE,
            step=DeletionStep.FINISHED,
            entities_to_delete=[],
            completed_at=timezone.now(),
            last_error="",
        )


def _personal_data_delete(*, user: User, spare_email_id: int | None) -> None:
    account_purging.send(sender=User, user=user)
    ApiKey.objects.filter(user=user).delete()
    OutstandingToken.objects.filter(user=user).delete()  # their refresh tokens, each naming them
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).delete()
    key = email_key(user.email)
    addressed = Email.objects.filter(to__icontains=user.email.rsplit("@", 1)[-1])
    to_delete = [
        email.pk
        for email in addressed.only("pk", "to", "status")
        if any(email_key(recipient) == key for recipient in email.to)
        and not (email.pk == spare_email_id and email.status in (STATUS.queued, STATUS.requeued))
    ]
    Email.objects.filter(pk__in=to_delete).delete()  # reset links and export links among them
    asks = PasswordResetAsk.objects.filter(email__iendswith=user.email.rsplit("@", 1)[-1]).only("pk", "email")
    PasswordResetAsk.objects.filter(pk__in=[ask.pk for ask in asks if email_key(ask.email) == key]).delete()
