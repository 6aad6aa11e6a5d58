"""Secrets reach no field of any log record, in either log format: the message and its arguments, the request that
Django's loggers attach, every extra field, the traceback and the stack. Each of Django's loggers that attaches a
request is driven for real, on the two pages whose address carries a secret."""

import logging
import sys
import uuid

import pytest
from django.db import ProgrammingError, connection
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.helpers.logs import captured_logs

SECRET = "Zq8vN3kLmP0xR7tY2wB5cD9fGh1JsK4eUo6iAa-Tn1w"  # shaped like an invite or reset token
UID = urlsafe_base64_encode(force_bytes(uuid.UUID("5f0c6a52-8d3e-4f7a-9b1c-2e4d6f8a0b1c")))  # read from the db
PAGES = {
    "invite page": f"/personal/invite?token={SECRET}",
    "reset page": f"/personal/reset-password?uid={UID}&token={SECRET}",
}

pytestmark = pytest.mark.django_db


def _assert_no_secret_anywhere(captured, logger: str, path: str) -> None:
    records = captured.from_logger(logger)
    assert records, f"{logger} logged nothing"
    everything = captured.everything()
    assert SECRET not in everything
    page = path.split("?")[0]
    requests = [line["request"] for line in captured.json_lines() if line["logger"] == logger and "request" in line]
    assert requests and all(page in request for request in requests)  # still says which request, minus the secret


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_a_post_without_a_csrf_cookie_logs_no_token(path):
    with captured_logs() as captured:
        response = Client(enforce_csrf_checks=True).post(path, {"password": "x"})

    assert response.status_code == 403
    _assert_no_secret_anywhere(captured, "django.security.csrf", path)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_a_host_that_is_not_allowed_logs_no_token(path):
    with captured_logs() as captured:
        response = Client().get(path, HTTP_HOST="evil.example")

    assert response.status_code == 400
    _assert_no_secret_anywhere(captured, "django.security.DisallowedHost", path)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_a_suspicious_body_logs_no_token(path, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{n}=x" for n in range(11))

    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32  # so the CSRF check reads the form, where the fields overflow

    with captured_logs() as captured:
        response = client.post(path, body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    _assert_no_secret_anywhere(captured, "django.security.TooManyFieldsSent", path)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_a_4xx_that_django_request_logs_carries_no_token(path):
    django_request = logging.getLogger("django.request")
    level = django_request.level
    django_request.setLevel(logging.WARNING)  # wisdom keeps it at ERROR; a deployment may lower it
    try:
        with captured_logs() as captured:
            response = Client().head(path)
    finally:
        django_request.setLevel(level)

    assert response.status_code == 405
    _assert_no_secret_anywhere(captured, "django.request", path)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_a_500_on_a_page_logs_its_traceback_without_the_token(path):
    def fail(execute, sql, params, many, context):
        raise ProgrammingError(f"relation missing while serving {path}")  # the secret inside the traceback too

    with captured_logs() as captured, connection.execute_wrapper(fail):
        response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 500
    _assert_no_secret_anywhere(captured, "django.request", path)
    assert any("ProgrammingError" in line for line in captured.text_lines())


def test_extra_fields_the_stack_and_a_traceback_formatted_earlier_carry_no_secret():
    logger = logging.getLogger("wisdom.test")
    try:
        raise RuntimeError(f"upstream said token={SECRET}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logger.makeRecord(
        "wisdom.test", logging.ERROR, __file__, 1, "calling %s", (f"https://x.example/?token={SECRET}",), exc_info
    )
    record.url = f"https://x.example/personal/invite?token={SECRET}"
    record.payload = {"password": SECRET, "nested": [f"Bearer {SECRET}"], "count": 3}
    record.stack_info = f'Stack (most recent call last):\n  File "x.py", line 1, in f\n    reset(token="{SECRET}")'
    record.exc_text = logging.Formatter().formatException(exc_info)  # another handler formatted it first

    with captured_logs() as captured:
        logger.handle(record)

    assert SECRET not in captured.everything()
    line = captured.json_lines()[0]
    assert line["payload"]["count"] == 3 and "RuntimeError" in line["exc_info"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_gunicorns_own_error_lines_carry_no_token(tmp_path, monkeypatch, log_format):
    from gunicorn.config import Config

    from wisdom.gunicorn_logger import GunicornLogger

    monkeypatch.setenv("LOG_FORMAT", log_format)
    config = Config()
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = GunicornLogger(config)
    try:
        raise ValueError("the application failed")
    except ValueError:
        logger.exception("Error handling request %s", f"/personal/reset-password?uid={UID}&token={SECRET}")

    written = (tmp_path / "error.log").read_text()
    assert "Error handling request /personal/reset-password" in written and "ValueError" in written
    assert SECRET not in written
