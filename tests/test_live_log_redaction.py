"""Through a real gunicorn and its real logging, in both formats: Django's security loggers attach the request, and
the request's address carries a token; no line carries the token."""

import json

import pytest
import requests

from tests.helpers.live import wisdom_server

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SECRET = "Zq8vN3kLmP0xR7tY2wB5cD9fGh1JsK4eUo6iAa-Tn1w"


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_missing_csrf_cookie_and_a_bad_host_log_no_token_in_either_format(tmp_path, log_format):
    with wisdom_server(tmp_path, LOG_FORMAT=log_format) as server:
        no_cookie = requests.post(f"{server.url}/personal/invite?token={SECRET}", data={"password": "x"}, timeout=10)
        bad_host = requests.get(
            f"{server.url}/personal/reset-password?uid=MTIz&token={SECRET}",
            headers={"Host": "evil.example"},
            timeout=10,
        )
        log = server.log()

    assert (no_cookie.status_code, bad_host.status_code) == (403, 400)
    assert "Forbidden (CSRF cookie not set.): /personal/invite" in log
    assert "Invalid HTTP_HOST header" in log
    assert SECRET not in log
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line is JSON
        requests_logged = {line["logger"]: line.get("request", "") for line in lines}
        assert "/personal/invite?token=[redacted]" in requests_logged["django.security.csrf"]
        assert (
            "/personal/reset-password?uid=[redacted]&token=[redacted]"
            in (requests_logged["django.security.DisallowedHost"])
        )
