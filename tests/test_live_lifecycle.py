"""A person's data end to end with real processes: gunicorn answers, `manage.py worker` processes do the work, the
agents double holds the entities (over HTTP), the database is the test's (PostgreSQL in CI's pass), email goes to a
real SMTP server. An export holds everything of one person and only they can download it; a deletion survives an
upstream outage, two workers and a kill -9, and then the email address signs up again."""

import os
import signal
import time

import pytest
import requests

from accounts.models import AccountDeletion, DeletionState, User
from invites.tests.factories import InviteFactory
from tests.helpers.constants import PASSWORD
from tests.helpers.processes import stop
from tests.helpers.worker import run_worker_once, start_worker

pytestmark = pytest.mark.live

OTHER_OWNER = "0c8d1f5e-2b7a-4e3c-9f61-5a4b3c2d1e0f"


@pytest.fixture(scope="module")
def live(start_wisdom):
    with start_wisdom(PERSONAL_FREE_TIER_ENTITY_CAP="10") as server:
        yield server


@pytest.fixture
def smtp(smtp_server_session):
    smtp_server_session.start()
    smtp_server_session.clear()
    return smtp_server_session


def _login(live, email: str) -> dict:
    response = requests.post(f"{live.url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _chat_upstream(double, owner, name: str, times: int) -> None:
    with requests.Session() as session:
        for n in range(times):
            response = session.post(
                f"{double.url}/entities/{name}/chat",
                json={"content": f"note {n}"},
                headers={"X-API-Key": double.api_key, "X-User-Id": str(owner)},
                timeout=10,
            )
            assert response.status_code == 201


def _owned(double, owner) -> list[str]:
    return sorted(e["name"] for e in double.entities() if e["owner_user_id"] == str(owner))


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def _deletion_done(user_id) -> bool:
    return AccountDeletion.objects.filter(subject_id=user_id, state=DeletionState.DONE).exists()


def test_an_export_of_a_person_with_several_entities_and_paginated_messages_holds_all_of_them_and_only_they_download_it(
    live, agents_double, make_live_user, smtp
):
    ada, bob = make_live_user(email="ada@example.com"), make_live_user(email="bob@example.com")
    ada_auth, bob_auth = _login(live, ada.email), _login(live, bob.email)
    for name in ("ada-notes", "ada-tutor", "ada-quiet"):
        created = requests.post(f"{live.url}/personal/entities", json={"name": name}, headers=ada_auth, timeout=30)
        assert created.status_code == 201, created.text
    sent = requests.post(
        f"{live.url}/personal/entities/ada-tutor/messages", json={"content": "hello"}, headers=ada_auth, timeout=30
    )
    assert sent.status_code == 201, sent.text
    _chat_upstream(agents_double, ada.pk, "ada-notes", 260)  # 520 messages: three pages upstream
    agents_double.seed_entity(name="bob-own", owner_id=str(bob.pk))

    asked = requests.post(f"{live.url}/auth/me/exports", headers=ada_auth, timeout=30)
    summary = run_worker_once(agents_double, smtp.url)
    listed = requests.get(f"{live.url}/auth/me/exports", headers=ada_auth, timeout=30).json()

    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    assert summary.splitlines() == [
        "exports: done 1, retrying 0, failed 0",
        "deletions: done 0, retrying 0, failed 0",
        "mail: sent 1, retrying 0, failed 0",
    ]
    assert [e["status"] for e in listed] == ["ready"]
    download = f"{live.url}{listed[0]['download_url']}"
    mine = requests.get(download, headers=ada_auth, timeout=30)
    assert mine.status_code == 200
    document = mine.json()
    entities = {e["name"]: e for e in document["entities"]}
    assert sorted(entities) == ["ada-notes", "ada-quiet", "ada-tutor"]
    notes = [m["content"] for m in entities["ada-notes"]["messages"]]
    assert len(notes) == 520 and notes[:2] == ["note 0", "You said: note 0"] and notes[-1] == "You said: note 259"
    assert [m["content"] for m in entities["ada-tutor"]["messages"]] == ["hello", "You said: hello"]
    assert entities["ada-quiet"]["messages"] == []
    assert document["account"]["email"] == "ada@example.com" and document["format_version"] == 1
    # nobody else: another person, no credentials, a made-up id
    theirs = requests.get(download, headers=bob_auth, timeout=30)
    anonymous = requests.get(download, timeout=30)
    assert (theirs.status_code, anonymous.status_code) == (404, 401)
    assert "ada" not in theirs.text and "ada" not in anonymous.text
    assert requests.get(f"{live.url}/auth/me/exports", headers=bob_auth, timeout=30).json() == []
    [email] = smtp.wait_for(1)
    assert email.rcpt_tos == ["ada@example.com"] and listed[0]["download_url"] in email.text


def test_a_deletion_while_the_double_is_down_completes_once_it_is_back(live, agents_double, make_live_user, tmp_path):
    dora = make_live_user(email="dora@example.com")
    for name in ("dora-1", "dora-2", "dora-3"):
        agents_double.seed_entity(name=name, owner_id=str(dora.pk))
    agents_double.seed_entity(name="someone-elses", owner_id=OTHER_OWNER)
    auth = _login(live, dora.email)
    agents_double.switch(fault="down")  # every call's connection is reset

    asked = requests.post(f"{live.url}/auth/delete-account", json={"password": PASSWORD}, headers=auth, timeout=30)
    after = requests.get(f"{live.url}/auth/me", headers=auth, timeout=30)
    down = run_worker_once(agents_double, JOB_RETRY_FIRST_SECONDS="1")

    assert asked.status_code == 202 and after.status_code == 401
    assert "deletions: done 0, retrying 1, failed 0" in down.splitlines()
    deletion = AccountDeletion.objects.get(subject_id=dora.pk)
    assert deletion.state == DeletionState.PENDING and deletion.last_error.startswith("AgentsUnreachable")
    assert _owned(agents_double, dora.pk) == ["dora-1", "dora-2", "dora-3"]

    worker = start_worker(agents_double, tmp_path / "worker.log", JOB_RETRY_FIRST_SECONDS="1")
    try:
        time.sleep(1.5)  # it retries, and meets the outage again
        agents_double.clear_switches()
        _wait_for(lambda: _deletion_done(dora.pk), 30, "the deletion done")
    finally:
        stop(worker)

    assert _owned(agents_double, dora.pk) == []
    assert _owned(agents_double, OTHER_OWNER) == ["someone-elses"]
    assert not User.objects.filter(pk=dora.pk).exists()
    assert AccountDeletion.objects.get(subject_id=dora.pk).attempts >= 1


def test_two_workers_and_a_kill_9_mid_deletion_leave_upstream_empty_and_the_account_gone_then_the_email_signs_up_again(
    live, agents_double, make_live_user, tmp_path
):
    eve = make_live_user(email="eve@example.com")
    names = [f"eve-{n:02d}" for n in range(12)]
    for name in names:
        agents_double.seed_entity(name=name, owner_id=str(eve.pk))
    agents_double.seed_entity(name="someone-elses", owner_id=OTHER_OWNER)
    agents_double.switch(latency_ms=400, latency_match="^DELETE ")  # a deletion takes a while: there is a middle
    auth = _login(live, eve.email)
    asked = requests.post(f"{live.url}/auth/delete-account", json={"password": PASSWORD}, headers=auth, timeout=30)
    assert asked.status_code == 202
    lease = {"WORKER_LEASE_SECONDS": "3", "INTUNO_AGENTS_TIMEOUT_SECONDS": "1"}

    first = start_worker(agents_double, tmp_path / "first.log", **lease)
    second = None
    try:
        _wait_for(
            lambda: AccountDeletion.objects.get(subject_id=eve.pk).entities_deleted >= 3, 30, "three entities deleted"
        )
        second = start_worker(agents_double, tmp_path / "second.log", **lease)
        time.sleep(0.6)  # both running; the first holds the claim, mid-way through a DELETE or its record
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        remaining_at_kill = len(_owned(agents_double, eve.pk))
        _wait_for(lambda: _deletion_done(eve.pk), 60, "the deletion done by the second worker")
    finally:
        stop(first)
        if second is not None:
            stop(second)

    assert 0 < remaining_at_kill < 12
    assert _owned(agents_double, eve.pk) == []
    assert _owned(agents_double, OTHER_OWNER) == ["someone-elses"]
    assert not User.objects.filter(pk=eve.pk).exists()
    deletes = [r["path"] for r in agents_double.received() if r["method"] == "DELETE"]
    assert sorted(set(deletes)) == [f"/entities/{name}" for name in names]
    assert len(deletes) <= len(names) + 1  # at most the one in flight at the kill is sent again
    assert "the claim ran out" not in (tmp_path / "second.log").read_text()

    # the same email, free again, redeems an invite and logs in
    invite = InviteFactory()
    redeemed = requests.post(
        f"{live.url}/invites/{invite.token}/redeem",
        json={"email": "Eve@Example.com", "password": PASSWORD, "first_name": "Eve"},
        timeout=30,
    )
    assert redeemed.status_code == 201, redeemed.text
    assert requests.get(f"{live.url}/auth/me", headers=_login(live, "eve@example.com"), timeout=30).status_code == 200
    assert User.objects.get(email_key="eve@example.com").pk != eve.pk
