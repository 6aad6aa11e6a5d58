"""`manage.py mail_worker`: the email outbox alone; an alias of `manage.py worker --only mail` (which see), kept for
deployments that run it. `--once` sends what is due now, then exits."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Send queued email (an alias of `worker --only mail`); --once sends what is due, then exits."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Send what is due now, then exit.")

    def handle(self, *args, **options):
        call_command("worker", only=["mail"], once=options["once"], stdout=self.stdout, stderr=self.stderr)
