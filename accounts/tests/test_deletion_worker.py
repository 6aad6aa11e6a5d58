"""The worker carries out a deletion against the agents double (a real process over HTTP): every entity upstream
first, then the account and its personal data; through an upstream outage, a lost claim and staff retries."""

from datetime import timedelta

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from post_office.models import STATUS, Email
from rest_framework.test import APIClient

from accounts.models import AccountDeletion, ApiKey, DeletionState, DeletionStep, PasswordResetAsk, User
from accounts.services import api_key_create, password_reset_request, tokens_for
from accounts.services.deletion import _carry_out, account_deletion_request, account_deletions_run_due
from accounts.services.jobs import Claim, JobRun, job_claim_next
from accounts.tests.factories import UserFactory
from invites.models import InviteRedemption
from invites.tests.factories import InviteFactory, InviteRedemptionFactory
from tests.helpers.constants import PASSWORD

OTHER_OWNER = "0c8d1f5e-2b7a-4e3c-9f61-5a4b3c2d1e0f"


@pytest.fixture
def doomed(db, agents_double, settings):
    """A person with three entities upstream, a key, a reset link in the outbox and a redeemed invite, who has just
    asked for their account to be deleted; someone else's entity beside theirs."""
    settings.JOB_RETRY_FIRST_SECONDS = 30
    user = UserFactory(email="Dora@Example.com", first_name="Dora")
    for name in ("dora-1", "dora-2", "dora-3"):
        assert agents_double.seed_entity(name=name, owner_id=str(user.pk)).status_code == 201
    agents_double.seed_entity(name="theirs", owner_id=OTHER_OWNER)
    api_key_create(user=user, name="laptop")
    password_reset_request(email=user.email)
    redemption = InviteRedemptionFactory(user=user, invite=InviteFactory(use_count=1))
    tokens_for(user=user)
    account_deletion_request(user=user, password=PASSWORD, address="198.51.100.7")
    return {"user": user, "redemption": redemption}


def _owned(double, owner) -> list[str]:
    return sorted(e["name"] for e in double.entities() if e["owner_user_id"] == str(owner))


def test_the_worker_deletes_every_entity_upstream_then_the_account_and_its_personal_data(doomed, agents_double):
    user, redemption = doomed["user"], doomed["redemption"]

    run = account_deletions_run_due()

    assert (run.done, run.retrying, run.failed) == (1, 0, 0)
    assert _owned(agents_double, user.pk) == []
    assert _owned(agents_double, OTHER_OWNER) == ["theirs"]
    deletes = [r["path"] for r in agents_double.received() if r["method"] == "DELETE"]
    assert sorted(deletes) == ["/entities/dora-1", "/entities/dora-2", "/entities/dora-3"]
    assert not User.objects.filter(pk=user.pk).exists()
    assert not ApiKey.objects.exists()
    assert not PasswordResetAsk.objects.exists()  # a reset asked for and not yet turned into an email
    redemption.refresh_from_db()
    assert (redemption.user_id, redemption.email, redemption.invite.use_count) == (None, "", 1)
    # the reset link is gone; the notice, not yet sent, stays to be sent
    assert [e.subject for e in Email.objects.all()] == ["Your Intuno Personal account is being deleted"]
    deletion = AccountDeletion.objects.get(subject_id=user.pk)
    assert (deletion.state, deletion.step, deletion.entities_deleted, deletion.user_id) == (
        DeletionState.DONE,
        DeletionStep.FINISHED,
        3,
        None,
    )
    assert deletion.completed_at is not None and deletion.claim_token is None


def test_a_deletion_while_upstream_is_down_is_retried_with_back_off_and_completes_once_it_is_back(
    doomed, agents_double
):
    user = doomed["user"]
    agents_double.switch(fault="down")

    down = account_deletions_run_due()
    again = account_deletions_run_due()  # not due yet: the back-off holds

    deletion = AccountDeletion.objects.get(subject_id=user.pk)
    assert (down.retrying, again.retrying, again.done) == (1, 0, 0)
    assert deletion.attempts == 1 and deletion.state == DeletionState.PENDING
    assert deletion.last_error.startswith("AgentsUnreachable: GET /entities")
    assert deletion.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert User.objects.filter(pk=user.pk).exists()

    agents_double.clear_switches()
    AccountDeletion.objects.filter(pk=deletion.pk).update(next_attempt_at=timezone.now())
    back = account_deletions_run_due()

    assert back.done == 1
    assert _owned(agents_double, user.pk) == []
    assert not User.objects.filter(pk=user.pk).exists()


def test_an_entity_gone_already_upstream_counts_as_deleted(doomed, agents_double):
    user = doomed["user"]
    AccountDeletion.objects.filter(subject_id=user.pk).update(
        step=DeletionStep.DELETE_ENTITIES, entities_to_delete=["gone-before", "dora-1"]
    )

    run = account_deletions_run_due()

    assert run.done == 1
    assert _owned(agents_double, user.pk) == []
    assert AccountDeletion.objects.get(subject_id=user.pk).entities_deleted == 4  # the 2 recorded, then 2 listed
    deletes = [r["path"] for r in agents_double.received() if r["method"] == "DELETE"]
    assert deletes[:2] == ["/entities/gone-before", "/entities/dora-1"]  # the 404 did not stop it


def test_a_deletion_failing_on_every_attempt_is_failed_and_staff_retry_it(doomed, agents_double, settings, staff_user):
    user = doomed["user"]
    settings.ACCOUNT_DELETION_MAX_ATTEMPTS = 2
    agents_double.switch(fault="canned", fault_status=500, fault_match="DELETE")

    for _ in range(2):
        account_deletions_run_due()
        AccountDeletion.objects.filter(subject_id=user.pk).update(next_attempt_at=timezone.now())

    deletion = AccountDeletion.objects.get(subject_id=user.pk)
    assert (deletion.state, deletion.attempts) == (DeletionState.FAILED, 2)
    assert deletion.last_error == "AgentsFailed: DELETE /entities/dora-1: 500"
    assert account_deletions_run_due().done == 0  # a failed one waits for staff

    agents_double.clear_switches()
    admin = Client()
    staff_user.is_superuser = True
    staff_user.save()
    admin.force_login(staff_user)
    page = admin.get("/admin/accounts/accountdeletion/")
    retried = admin.post(
        "/admin/accounts/accountdeletion/", {"action": "retry_selected", "_selected_action": [str(deletion.pk)]}
    )

    assert page.status_code == 200
    assert str(user.pk).encode() in page.content and b"Failed" in page.content
    assert retried.status_code == 302
    assert AccountDeletion.objects.get(pk=deletion.pk).state == DeletionState.PENDING
    assert account_deletions_run_due().done == 1
    assert _owned(agents_double, user.pk) == []


def test_a_claimed_deletion_is_left_to_its_worker_until_the_lease_runs_out(doomed, settings):
    user = doomed["user"]
    first = job_claim_next(model=AccountDeletion, due=_pending(), exclude=[])

    assert first is not None
    assert job_claim_next(model=AccountDeletion, due=_pending(), exclude=[]) is None
    AccountDeletion.objects.filter(pk=first.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    second = job_claim_next(model=AccountDeletion, due=_pending(), exclude=[])

    assert second is not None and second.token != first.token
    assert AccountDeletion.objects.get(subject_id=user.pk).claim_token == second.token


def test_a_worker_whose_claim_was_taken_over_writes_nothing_more(doomed, agents_double):
    user = doomed["user"]
    deletion = AccountDeletion.objects.get(subject_id=user.pk)
    stale = Claim(model=AccountDeletion, pk=deletion.pk, token=deletion.pk)  # not the row's token
    run = JobRun()
    _carry_out(claim=stale, run=run, keep_going=lambda: True)

    deletion.refresh_from_db()
    assert (deletion.step, deletion.entities_to_delete, run.done) == (DeletionStep.LIST_ENTITIES, [], 0)
    assert User.objects.filter(pk=user.pk).exists()


def test_the_email_is_free_to_sign_up_again_once_the_account_is_gone(doomed, agents_double):
    account_deletions_run_due()
    invite = InviteFactory()

    response = APIClient().post(
        f"/invites/{invite.token}/redeem",
        {"email": "dora@example.com", "password": PASSWORD, "first_name": "Dora"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert User.objects.get(email_key="dora@example.com").is_active
    assert InviteRedemption.objects.filter(invite=invite, user__email__iexact="dora@example.com").exists()


def test_the_notice_once_sent_is_purged_with_the_rest(doomed, agents_double):
    Email.objects.filter(subject__contains="being deleted").update(status=STATUS.sent)

    account_deletions_run_due()

    assert not Email.objects.exists()


def _pending() -> Q:
    return Q(state=DeletionState.PENDING)


class _Killed(BaseException):
    """Stands for a kill -9: nothing after it runs, nothing catches it."""


def test_a_worker_killed_between_a_delete_and_its_record_is_resumed_by_the_next_one(doomed, agents_double, monkeypatch):
    import accounts.services.deletion as deletion_module

    user = doomed["user"]
    real_record = deletion_module.job_record
    calls = []

    def dies_on_the_second_record(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:  # the first DELETE went upstream; its record never happens
            raise _Killed()
        real_record(**kwargs)

    monkeypatch.setattr(deletion_module, "job_record", dies_on_the_second_record)
    with pytest.raises(_Killed):
        account_deletions_run_due()
    monkeypatch.setattr(deletion_module, "job_record", real_record)
    row = AccountDeletion.objects.get(subject_id=user.pk)
    assert (row.step, row.entities_to_delete[0]) == (DeletionStep.DELETE_ENTITIES, "dora-1")
    assert account_deletions_run_due().done == 0  # still claimed by the dead worker until its lease runs out

    AccountDeletion.objects.filter(pk=row.pk).update(claimed_until=timezone.now())
    resumed = account_deletions_run_due()

    assert resumed.done == 1
    assert _owned(agents_double, user.pk) == []
    assert not User.objects.filter(pk=user.pk).exists()
    deletes = [r["path"] for r in agents_double.received() if r["method"] == "DELETE"]
    assert deletes == ["/entities/dora-1", "/entities/dora-1", "/entities/dora-2", "/entities/dora-3"]
