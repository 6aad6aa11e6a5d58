import json
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from invites.models import Invite
from tests.helpers import live


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_invite", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_prints_the_share_url_and_the_id(settings):
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    output = run()

    invite = Invite.objects.get()
    assert output.splitlines() == [f"https://app.example.com/personal/invite?token={invite.token}", f"id: {invite.id}"]
    assert (invite.max_uses, invite.expires_at, invite.inviter, invite.email) == (1, None, None, "")


@pytest.mark.django_db
def test_all_options_are_recorded_and_json_describes_the_invite():
    staff = UserFactory(email="staff@example.com", is_staff=True)

    output = run(
        "--email", "new@example.com", "--note", "cohort 3", "--max-uses", "5", "--expires-in", "12h",
        "--inviter", "STAFF@example.com", "--json",
    )  # fmt: skip

    invite = Invite.objects.get()
    body = json.loads(output)
    assert body["id"] == str(invite.id) and body["url"] == invite.share_url and body["token"] == invite.token
    assert (body["email"], body["note"], body["max_uses"], body["inviter"]) == (
        "new@example.com",
        "cohort 3",
        5,
        "staff@example.com",
    )
    assert (invite.email, invite.note, invite.max_uses, invite.inviter) == ("new@example.com", "cohort 3", 5, staff)
    assert abs(invite.expires_at - (timezone.now() + timedelta(hours=12))) < timedelta(minutes=1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, delta", [("7d", timedelta(days=7)), ("30m", timedelta(minutes=30)), ("1h", timedelta(hours=1))]
)
def test_durations_in_days_hours_and_minutes(text, delta):
    run("--expires-in", text)

    assert abs(Invite.objects.get().expires_at - (timezone.now() + delta)) < timedelta(minutes=1)


BAD_INPUT = [
    (["--max-uses", "0"], "--max-uses must be between 1 and 10000."),
    (["--max-uses", "10001"], "--max-uses must be between 1 and 10000."),
    (["--max-uses", "lots"], "--max-uses must be a whole number, not 'lots'."),
    (["--expires-in", "7 days"], "--expires-in must look like 7d, 12h or 30m, not '7 days'."),
    (["--expires-in", "0d"], "--expires-in must be more than zero and at most 3650d."),
    (["--expires-in=-1d"], "--expires-in must look like 7d, 12h or 30m, not '-1d'."),
    (["--email", "not-an-email"], "--email 'not-an-email' is not a valid email address."),
    (["--inviter", "ghost@example.com"], "--inviter: no user with the email 'ghost@example.com'."),
    (["--note", "x" * 256], "--note must be at most 255 characters."),
]


@pytest.mark.django_db
@pytest.mark.parametrize("args, message", BAD_INPUT, ids=[" ".join(a)[:30] for a, _ in BAD_INPUT])
def test_bad_input_is_a_command_error_and_creates_nothing(args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)

    assert str(caught.value) == message
    assert not Invite.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_as_a_real_process_bad_input_is_one_line_with_no_traceback_and_nothing_created():
    # the production settings, as staff would run it, against the test database
    env = {**live.BASE_ENV, "DATABASE_URL": live.test_database_url(), "PATH": "/usr/bin:/bin"}

    bad = subprocess.run(
        [sys.executable, "manage.py", "create_invite", "--expires-in", "soon"],
        cwd=live.ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert bad.returncode != 0
    assert bad.stderr.strip() == "CommandError: --expires-in must look like 7d, 12h or 30m, not 'soon'."
    assert "Traceback" not in bad.stderr + bad.stdout
    assert not Invite.objects.exists()

    good = subprocess.run(
        [sys.executable, "manage.py", "create_invite", "--max-uses", "2", "--json"],
        cwd=live.ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["id"] == str(Invite.objects.get().id)


@pytest.mark.django_db
def test_the_inviter_is_found_under_any_spelling_of_their_email():
    staff = UserFactory(email="admin@example.com", is_staff=True)

    run("--inviter", "ADMİN@example.com")

    assert Invite.objects.get().inviter == staff
