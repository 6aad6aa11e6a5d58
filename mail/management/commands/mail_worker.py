"""`manage.py mail_worker`: sends queued email until stopped (SIGTERM or Ctrl-C ends it after the current email);
`--once` sends what is due now, then exits. Run exactly one per deployment, or more: they never send one email twice
at once (each claims its email with a skip-locked row lock)."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from mail import services

logger = logging.getLogger("mail.worker")


class Command(BaseCommand):
    help = "Send queued email, retrying failures with back-off; --once sends what is due, then exits."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit.")

    def handle(self, *args, **options):
        if not settings.EMAIL_CONFIGURED:
            raise CommandError(
                "Setting EMAIL_URL is required to send email: e.g. smtp+tls://user:password@smtp.example.net:587"
            )
        once = options["once"]
        stopping = threading.Event()
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.set())
            logger.info(
                "mail worker started: every %gs, through %s",
                settings.MAIL_WORKER_POLL_SECONDS,
                settings.EMAIL_BACKEND.rsplit(".", 2)[-2],
            )
        while True:
            try:
                run = services.outbox_send_due(keep_going=lambda: not stopping.is_set())
            except DatabaseError as e:
                if once:
                    raise CommandError(f"The database failed: {type(e).__name__}") from None
                logger.error("mail worker: the database failed (%s); trying again shortly", type(e).__name__)
            else:
                if once:
                    self.stdout.write(f"sent {run.sent}, retrying {run.retrying}, failed {run.failed}")
            if once or stopping.wait(settings.MAIL_WORKER_POLL_SECONDS):
                break
            close_old_connections()  # a long-lived process: drop a connection the database has closed
        if not once:
            logger.info("mail worker stopped")
