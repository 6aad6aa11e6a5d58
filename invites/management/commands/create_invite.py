"""`manage.py create_invite`: issue an invite from a shell and print its share URL; `--send` also emails it."""

import json
import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from invites import selectors, services
from invites.models import MAX_EXPIRES_IN, MAX_EXPIRES_IN_DAYS, MAX_USES_LIMIT

DURATION = re.compile(r"^(\d{1,6})([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    match = DURATION.match(text.strip())
    if not match:
        raise CommandError(f"--expires-in must look like 7d, 12h or 30m, not {text!r}.")
    duration = timedelta(**{UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < duration <= MAX_EXPIRES_IN:
        raise CommandError(f"--expires-in must be more than zero and at most {MAX_EXPIRES_IN_DAYS}d.")
    return duration


def parse_max_uses(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise CommandError(f"--max-uses must be a whole number, not {text!r}.") from None
    if not 1 <= value <= MAX_USES_LIMIT:
        raise CommandError(f"--max-uses must be between 1 and {MAX_USES_LIMIT}.")
    return value


class Command(BaseCommand):
    help = "Issue an invite and print its share URL and id."

    def add_arguments(self, parser):
        # Plain strings, parsed here: argparse's own errors would print usage over several lines.
        parser.add_argument("--email", default="", help="Pre-fills the signup form.")
        parser.add_argument("--note", default="", help="For staff; up to 255 characters.")
        parser.add_argument("--max-uses", default="1", help=f"1 to {MAX_USES_LIMIT}; default 1.")
        parser.add_argument("--expires-in", default=None, help="7d, 12h or 30m; default: never.")
        parser.add_argument("--inviter", default=None, help="Email of the user recorded as the inviter.")
        parser.add_argument(
            "--send", action="store_true", help="Also email the invite to --email (queued for the mail worker)."
        )
        parser.add_argument("--json", action="store_true", help="Print the invite as JSON.")

    def handle(self, *args, **options):
        email = options["email"].strip()
        if options["send"] and not email:
            raise CommandError("--send needs --email: the address to send the invite to.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"--email {email!r} is not a valid email address.") from None
        if len(options["note"]) > 255:
            raise CommandError("--note must be at most 255 characters.")
        max_uses = parse_max_uses(options["max_uses"])
        expires_in = parse_duration(options["expires_in"]) if options["expires_in"] is not None else None
        inviter = None
        if options["inviter"]:
            inviter = selectors.inviter_get_by_email(email=options["inviter"])
            if inviter is None:
                raise CommandError(f"--inviter: no user with the email {options['inviter']!r}.")

        try:
            invite = services.invite_create(
                inviter=inviter,
                email=email,
                note=options["note"],
                max_uses=max_uses,
                expires_in=expires_in,
                send_email=options["send"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

        if options["json"]:
            self.stdout.write(json.dumps(_as_json(invite)))
        else:
            self.stdout.write(invite.share_url)
            self.stdout.write(f"id: {invite.id}")
            if options["send"]:
                self.stdout.write(f"email queued to {invite.email}; `manage.py mail_worker` sends it")


def _as_json(invite) -> dict:
    return {
        "id": str(invite.id),
        "url": invite.share_url,
        "token": invite.token,
        "email": invite.email or None,
        "note": invite.note or None,
        "max_uses": invite.max_uses,
        "expires_at": invite.expires_at.isoformat() if invite.expires_at else None,
        "inviter": invite.inviter.email if invite.inviter else None,
        "last_sent_at": invite.last_sent_at.isoformat() if invite.last_sent_at else None,
    }
