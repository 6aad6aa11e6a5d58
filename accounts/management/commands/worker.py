"""`manage.py worker`: all background work, until stopped (SIGTERM or Ctrl-C ends it after the current step):
data exports, account deletions, and the email outbox (mail/services.py's sending policy). `--once` does what is
due now, then exits; `--only JOB` runs some jobs alone (`mail_worker` is `worker --only mail`). Run one per
deployment, or more: every job claims its rows (a skip-locked row lock, a lease), so two never work one at once.
"""

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from accounts.services.deletion import account_deletions_run_due
from accounts.services.export import data_exports_run_due
from mail.services import outbox_send_due

logger = logging.getLogger("wisdom.worker")


@dataclass(frozen=True, slots=True)
class Job:
    run: Callable
    summary: Callable[[object], str]


def _job_summary(run) -> str:
    return f"done {run.done}, retrying {run.retrying}, failed {run.failed}"


# In this order: an export's "ready" email and a deletion's notice leave in the same pass as they are made.
JOBS = {
    "exports": Job(run=data_exports_run_due, summary=_job_summary),
    "deletions": Job(run=account_deletions_run_due, summary=_job_summary),
    "mail": Job(
        run=outbox_send_due, summary=lambda run: f"sent {run.sent}, retrying {run.retrying}, failed {run.failed}"
    ),
}


class Command(BaseCommand):
    help = "Run all background work (data exports, account deletions, email); --once does what is due, then exits."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Do what is due now, then exit.")
        parser.add_argument(
            "--only", action="append", choices=sorted(JOBS), help="Run only this job (repeatable); default: all."
        )

    def handle(self, *args, **options):
        if not settings.EMAIL_CONFIGURED:
            raise CommandError(
                "Setting EMAIL_URL is required to send email: e.g. smtp+tls://user:password@smtp.example.net:587"
            )
        once = options["once"]
        names = [name for name in JOBS if name in (options["only"] or JOBS)]
        stopping = threading.Event()
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.set())
            logger.info("worker started: %s, every %gs", ", ".join(names), settings.WORKER_POLL_SECONDS)
        while True:
            lines = [self._run(name, once=once, keep_going=lambda: not stopping.is_set()) for name in names]
            if once:
                self.stdout.write("\n".join(lines if len(names) > 1 else [line.partition(": ")[2] for line in lines]))
            if once or stopping.wait(settings.WORKER_POLL_SECONDS):
                break
            close_old_connections()  # a long-lived process: drop a connection the database has closed
        if not once:
            logger.info("worker stopped")

    def _run(self, name: str, *, once: bool, keep_going: Callable[[], bool]) -> str:
        job = JOBS[name]
        try:
            return f"{name}: {job.summary(job.run(keep_going=keep_going))}"
        except DatabaseError as e:
            if once:
                raise CommandError(f"The database failed: {type(e).__name__}") from None
            logger.error("worker: %s: the database failed (%s); trying again shortly", name, type(e).__name__)
        except Exception:  # one job's defect must not stop the others; its row is retried once its claim runs out
            if once:
                raise
            logger.exception("worker: %s failed unexpectedly; trying again shortly", name)
        return f"{name}: failed"
