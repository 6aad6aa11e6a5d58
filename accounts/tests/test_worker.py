"""`manage.py worker`: every job in one process, `--once` and `--only`, no start without email, a clean stop."""

import io
import signal
import time

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AccountDeletion, DataExport, DeletionState, ExportStatus, User
from accounts.services.deletion import account_deletion_request
from accounts.services.export import data_export_request
from accounts.tests.factories import UserFactory
from tests.helpers.constants import PASSWORD
from tests.helpers.worker import start_worker


def _worker(*args: str) -> str:
    out = io.StringIO()
    call_command("worker", *args, stdout=out)
    return out.getvalue().strip()


def test_worker_once_does_every_job_that_is_due_and_reports_each(db, agents_double, smtp_server):
    leaving, staying = UserFactory(), UserFactory()
    agents_double.seed_entity(name="leaving-1", owner_id=str(leaving.pk))
    account_deletion_request(user=leaving, password=PASSWORD, address="198.51.100.2")
    data_export_request(user=staying)

    summary = _worker("--once")

    assert summary.splitlines() == [
        "exports: done 1, retrying 0, failed 0",
        "deletions: done 1, retrying 0, failed 0",
        "mail: sent 2, retrying 0, failed 0",  # the deletion notice and the export's "ready"
    ]
    assert DataExport.objects.get().status == ExportStatus.READY
    assert AccountDeletion.objects.get().state == DeletionState.DONE
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(2)) == sorted([leaving.email, staying.email])


def test_worker_only_runs_the_jobs_named(db, agents_double, smtp_server):
    data_export_request(user=UserFactory())

    summary = _worker("--once", "--only", "mail")

    assert summary == "sent 0, retrying 0, failed 0"
    assert DataExport.objects.get().status == ExportStatus.PENDING


def test_worker_without_email_url_refuses_to_start(settings):
    settings.EMAIL_CONFIGURED = False

    with pytest.raises(CommandError, match="EMAIL_URL is required"):
        call_command("worker", "--once")


@pytest.mark.live
def test_worker_stops_on_sigterm(agents_double, tmp_path, transactional_db):
    log = tmp_path / "worker.log"
    worker = start_worker(agents_double, log)
    deadline = time.monotonic() + 30
    while "worker started" not in log.read_text() and time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()
        time.sleep(0.1)
    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=15) == 0
    assert "worker started: exports, deletions, mail" in log.read_text()
    assert "worker stopped" in log.read_text()
