"""The outbox against a real SMTP server (aiosmtpd in the test process): queued with the change that causes it,
sent by `mail_worker --once`, retried with back-off through an outage, delivered exactly once, given up visibly."""

import time
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db import transaction
from django.utils import timezone
from post_office.models import STATUS, Email, Log

from mail.services import email_enqueue, retry_delay
from tests.helpers.silent import silent_server

pytestmark = pytest.mark.django_db

TEMPLATE = "accounts/email/password_reset"


def _queue(to="reader@example.com") -> Email:
    context = {
        "first_name": "Ada",
        "reset_url": "http://testserver/link?x=1",
        "expires_at": timezone.now(),
        "valid_for": "1 hour",
    }
    return email_enqueue(to=to, template=TEMPLATE, context=context)


def test_a_queued_email_waits_for_the_worker_then_arrives_with_text_and_html(smtp_server, send_queued_mail):
    email = _queue()
    assert smtp_server.messages() == []

    summary = send_queued_mail()

    [delivered] = smtp_server.wait_for(1)
    assert summary == "sent 1, retrying 0, failed 0"
    assert delivered.rcpt_tos == ["reader@example.com"]
    assert delivered.message["Subject"] == "Reset your Intuno Personal password"
    assert "http://testserver/link?x=1" in delivered.text
    assert 'href="http://testserver/link?x=1"' in delivered.html
    email.refresh_from_db()
    assert email.status == STATUS.sent
    assert list(email.logs.values_list("status", flat=True)) == [STATUS.sent]


def test_an_email_queued_in_a_transaction_that_rolls_back_is_never_sent(smtp_server, send_queued_mail):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue()
        raise RuntimeError("the change failed")

    send_queued_mail()

    assert Email.objects.count() == 0
    assert smtp_server.messages() == []


def test_an_smtp_outage_delays_an_email_which_then_arrives_exactly_once(smtp_server, send_queued_mail, settings):
    settings.MAIL_RETRY_FIRST_SECONDS = 0.5
    email = _queue()
    smtp_server.stop()

    assert send_queued_mail() == "sent 0, retrying 1, failed 0"
    email.refresh_from_db()
    assert email.status == STATUS.requeued
    assert email.number_of_retries == 1
    assert timezone.now() < email.scheduled_time <= timezone.now() + timedelta(seconds=1)
    [failure] = Log.objects.filter(email=email)
    assert failure.status == STATUS.failed

    smtp_server.start()
    assert send_queued_mail() == "sent 0, retrying 0, failed 0"  # not due yet: the back-off holds
    time.sleep(0.6)
    assert send_queued_mail() == "sent 1, retrying 0, failed 0"
    assert send_queued_mail() == "sent 0, retrying 0, failed 0"

    assert len(smtp_server.wait_for(1)) == 1
    time.sleep(0.2)
    assert len(smtp_server.messages()) == 1
    email.refresh_from_db()
    assert email.status == STATUS.sent
    assert list(email.logs.order_by("pk").values_list("status", flat=True)) == [STATUS.failed, STATUS.sent]


def test_the_first_retry_comes_within_30_seconds_and_the_gap_doubles_up_to_10_minutes():
    gaps = [retry_delay(attempts=n).total_seconds() for n in range(1, 12)]

    assert gaps[0] <= 30
    assert gaps == sorted(gaps)
    assert all(later in (2 * earlier, 600) for earlier, later in pairwise(gaps))
    assert max(gaps) == 600
    assert retry_delay(attempts=10_000).total_seconds() == 600


def test_an_email_still_unsent_a_day_after_it_was_queued_is_given_up_and_shown_failed(smtp_server, send_queued_mail):
    email = _queue()
    smtp_server.stop()
    send_queued_mail()
    Email.objects.filter(pk=email.pk).update(
        created=timezone.now() - timedelta(days=1, seconds=1), scheduled_time=timezone.now()
    )

    assert send_queued_mail() == "sent 0, retrying 0, failed 1"

    email.refresh_from_db()
    assert email.status == STATUS.failed
    last = email.logs.order_by("-pk").first()
    assert last.status == STATUS.failed and "given up" in last.message
    smtp_server.start()
    send_queued_mail()
    assert smtp_server.messages() == []


def test_a_failure_after_the_give_up_time_marks_the_email_failed_not_requeued(smtp_server, send_queued_mail):
    email = _queue()
    Email.objects.filter(pk=email.pk).update(created=timezone.now() - timedelta(hours=23, minutes=59, seconds=59))
    smtp_server.stop()
    time.sleep(1)

    send_queued_mail()

    email.refresh_from_db()
    assert email.status == STATUS.failed


def test_a_recipient_refused_for_good_is_not_retried(smtp_server, send_queued_mail):
    smtp_server.refused.add("nobody@example.com")
    email = _queue(to="nobody@example.com")

    assert send_queued_mail() == "sent 0, retrying 0, failed 1"

    email.refresh_from_db()
    assert email.status == STATUS.failed
    assert "550" in email.logs.get().message


def test_a_silent_mail_server_costs_one_attempt_at_most_the_timeout(smtp_server, send_queued_mail, settings):
    email = _queue()
    with silent_server() as silent:
        settings.EMAIL_PORT = silent.port
        settings.EMAIL_TIMEOUT = 1
        started = time.monotonic()
        summary = send_queued_mail()
        took = time.monotonic() - started

    assert summary == "sent 0, retrying 1, failed 0"
    assert took < 10  # bounded by EMAIL_TIMEOUT, not forever
    email.refresh_from_db()
    assert email.status == STATUS.requeued
    assert "timed out" in email.logs.get().message.lower()


def test_the_worker_sends_every_due_email_in_one_pass(smtp_server, send_queued_mail):
    for n in range(5):
        _queue(to=f"reader{n}@example.com")

    assert send_queued_mail() == "sent 5, retrying 0, failed 0"

    assert sorted(m.rcpt_tos[0] for m in smtp_server.wait_for(5)) == [f"reader{n}@example.com" for n in range(5)]


def test_mail_worker_without_email_url_refuses_to_start(settings):
    from django.core.management import CommandError, call_command

    settings.EMAIL_CONFIGURED = False

    with pytest.raises(CommandError, match="EMAIL_URL is required"):
        call_command("mail_worker", "--once")


def test_staff_see_a_failed_email_with_its_error_and_requeue_it_for_the_worker(smtp_server, send_queued_mail):
    from django.test import Client

    from accounts.tests.factories import UserFactory

    email = _queue()
    Email.objects.filter(pk=email.pk).update(created=timezone.now() - timedelta(days=2))
    send_queued_mail()  # given up: older than a day
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))

    page = admin.get(f"/admin/post_office/email/{email.pk}/change/")
    resent = admin.get(f"/admin/post_office/email/{email.pk}/resend/", follow=True)
    assert smtp_server.messages() == []  # the web process queues, never sends
    send_queued_mail()

    assert page.status_code == 200 and b"given up" in page.content
    assert b"Queued again" in resent.content
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["reader@example.com"]]
    email.refresh_from_db()
    assert email.status == STATUS.sent


def test_a_server_trickling_its_greeting_costs_one_attempt_cut_at_the_send_deadline(
    smtp_server, send_queued_mail, settings
):
    from tests.helpers.smtp import TricklingSmtpProxy

    email = _queue()
    proxy = TricklingSmtpProxy(smtp_server.port, trickle_seconds=60, interval=0.2)
    settings.EMAIL_PORT = proxy.port
    settings.MAIL_SEND_DEADLINE_SECONDS = 2
    try:
        started = time.monotonic()
        summary = send_queued_mail()
        took = time.monotonic() - started
    finally:
        proxy.stop()

    assert summary == "sent 0, retrying 1, failed 0"
    assert 2 <= took < 10  # each byte came within EMAIL_TIMEOUT (5 s); the whole send was cut at 2 s
    email.refresh_from_db()
    assert email.status == STATUS.requeued
    log = email.logs.get()
    assert log.exception_type == "SendDeadlineExceeded" and "2 s" in log.message


def test_a_claim_outlasts_the_send_deadline(settings):
    from mail.services import claim_seconds

    for deadline in (1, 60, 600):
        settings.MAIL_SEND_DEADLINE_SECONDS = deadline
        assert claim_seconds() > deadline
