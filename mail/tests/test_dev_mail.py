"""Development shows every email without a mail server: `make run` starts the worker, which prints each one to its
console (EMAIL_URL=consolemail://), and /dev/mail lists them in a browser; neither exists outside DJANGO_DEBUG."""

import time

import pytest
import requests
from django.test import Client

from mail.services import email_enqueue
from wisdom.tests.startup import manage
from wisdom.tests.test_dev_setup import dev_run  # noqa: F401  (the fixture: scripts/dev-run on free ports)

CONTEXT = {"inviter_name": "Stella", "share_url": "http://127.0.0.1:8000/personal/invite?token=abc", "expires_at": None}


@pytest.mark.django_db
def test_dev_mail_lists_queued_emails_with_clickable_links_under_debug(settings):
    settings.DEBUG = True
    email_enqueue(to="newcomer@example.com", template="invites/email/invite", context=CONTEXT)

    response = Client().get("/dev/mail")

    assert response.status_code == 200
    assert b"Stella invited you to Intuno Personal" in response.content
    assert b'href="http://127.0.0.1:8000/personal/invite?token=abc"' in response.content
    assert b"newcomer@example.com" in response.content


@pytest.mark.django_db
def test_dev_mail_is_a_404_outside_debug():
    email_enqueue(to="newcomer@example.com", template="invites/email/invite", context=CONTEXT)

    response = Client().get("/dev/mail")

    assert response.status_code == 404
    assert b"newcomer@example.com" not in response.content


@pytest.mark.live
def test_make_run_starts_the_mail_worker_which_prints_every_email(dev_run):  # noqa: F811
    url = f"http://127.0.0.1:{dev_run.port}"
    sent = manage("create_invite", "--email", "newcomer@example.com", "--send", env=dev_run.terminal)
    assert sent.returncode == 0, sent.stderr
    share_url = sent.stdout.splitlines()[0]

    printed = _wait_for_text(dev_run.log, share_url)
    page = requests.get(f"{url}/dev/mail", timeout=30)

    assert "To: newcomer@example.com" in printed
    assert page.status_code == 200 and share_url in page.text
    assert f"{url}/dev/mail" in dev_run.log.read_text()


def _wait_for_text(path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    tail = path.read_text(errors="replace")[-3000:]
    raise AssertionError(f"{text!r} not printed within {timeout}s; the log ends:\n{tail}")
