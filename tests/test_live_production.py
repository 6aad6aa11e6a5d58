"""Production behaviour against a running gunicorn: JSON logs without secrets, throttles on Redis,
CORS, body limits and readiness."""

import json
import uuid

import pytest
import requests

from tests.helpers.constants import PASSWORD
from tests.helpers.live import wisdom_server

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FRONTEND = "https://app.example.com"
SERVICE_KEY = "test-service-key-1"


@pytest.fixture(scope="module")
def production_server(django_db_setup, django_db_blocker, tmp_path_factory):
    env = {
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "CACHE_KEY_PREFIX": f"wisdom-test-{uuid.uuid4().hex}",
        "THROTTLE_RATE_LOGIN": "3/min",
        "CORS_ALLOWED_ORIGINS": FRONTEND,
        "NUM_PROXIES": "1",
    }
    with django_db_blocker.unblock(), wisdom_server(tmp_path_factory.mktemp("prod"), workers=2, **env) as server:
        yield server


def _json_lines(server) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def test_every_log_line_is_json_and_the_access_line_has_the_request_facts(production_server, make_live_user):
    user = make_live_user(email="logs@example.com")
    url = production_server.url
    login = requests.post(
        f"{url}/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-Request-ID": "req-login-1", "X-Forwarded-For": "10.0.0.1"},
    )
    access = login.json()["access_token"]
    requests.get(f"{url}/auth/me", headers={"Authorization": f"Bearer {access}", "X-Request-ID": "req-me-1"})
    requests.get(
        f"{url}/auth/me",
        headers={"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(user.pk), "X-Request-ID": "req-delegated-1"},
    )

    lines = _json_lines(production_server)  # raises if any line is not JSON
    by_request = {line.get("request_id"): line for line in lines if line.get("logger") == "wisdom.access"}
    me = by_request["req-me-1"]
    assert me["method"] == "GET" and me["path"] == "/auth/me" and me["status"] == 200
    assert me["user_id"] == str(user.pk) and me["delegated"] is False
    assert isinstance(me["duration_ms"], float) and me["level"] == "INFO" and me["time"]
    assert by_request["req-delegated-1"]["delegated"] is True
    assert by_request["req-delegated-1"]["user_id"] == str(user.pk)
    assert by_request["req-login-1"]["status"] == 200


def test_no_secret_reaches_the_log_at_debug_level(production_server, make_live_user):
    user = make_live_user(email="secrets@example.com")
    url = production_server.url
    tokens = requests.post(
        f"{url}/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "10.0.0.2"},
    ).json()
    requests.post(f"{url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    requests.get(f"{url}/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    requests.get(f"{url}/auth/me", headers={"X-Service-Key": "a-wrong-key-that-is-secret"})
    requests.get(f"{url}/auth/me", headers={"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(user.pk)})

    log = production_server.log()
    for secret in [
        PASSWORD,
        tokens["access_token"],
        tokens["refresh_token"],
        SERVICE_KEY,
        "a-wrong-key-that-is-secret",
        "test-agents-key",
        "test-secret-key-that-is-long-enough",
        user.password,
    ]:
        assert secret not in log


def test_login_is_throttled_per_ip(production_server):
    statuses = [
        requests.post(
            f"{production_server.url}/auth/login",
            json={"email": f"ip-{i}@example.com", "password": "x"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        for i in range(4)
    ]

    assert [r.status_code for r in statuses] == [401, 401, 401, 429]
    assert int(statuses[-1].headers["Retry-After"]) > 0
    assert statuses[-1].json()["detail"].startswith("Request was throttled")


def test_failed_logins_from_many_addresses_do_not_lock_the_owner_out(production_server, make_live_user):
    target = make_live_user(email="target@example.com")
    statuses = [
        requests.post(
            f"{production_server.url}/auth/login",
            json={"email": "Target@Example.com" if i % 2 else "target@example.com", "password": "guess"},
            headers={"X-Forwarded-For": f"198.51.100.{i}"},
        ).status_code
        for i in range(4)
    ]
    owner = requests.post(
        f"{production_server.url}/auth/login",
        json={"email": target.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.200"},
    )

    assert statuses == [401, 401, 401, 401]
    assert owner.status_code == 200


def test_cors_preflight_passes_for_the_frontend_only(production_server):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    url = f"{production_server.url}/auth/login"
    allowed = requests.options(url, headers={"Origin": FRONTEND, **preflight})
    other = requests.options(url, headers={"Origin": "https://evil.example", **preflight})

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == FRONTEND
    allowed_headers = allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert not any(h.lower().startswith("access-control-") for h in other.headers)


def test_malformed_json_is_400(production_server):
    # A body over the limit is tested once per write route in tests/test_security.py and for its closed
    # connection in tests/test_live_early_refusal.py.
    malformed = requests.post(
        f"{production_server.url}/auth/login",
        data=b'{"email": "x@example.com", "password":',
        headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.51"},
    )

    assert malformed.status_code == 400
    assert "JSON parse error" in malformed.json()["detail"]


def test_readiness_checks_the_database_and_the_shared_cache(production_server):
    ready = requests.get(f"{production_server.url}/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


def test_readiness_is_503_naming_the_failed_checks(django_db_blocker, tmp_path):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wisdom_no_such_database",
        "CACHE_URL": "redis://127.0.0.1:1/0",
    }
    with django_db_blocker.unblock(), wisdom_server(tmp_path, **env) as server:
        health = requests.get(f"{server.url}/healthz")
        ready = requests.get(f"{server.url}/readyz", timeout=30)

    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "checks": {"database": "failed", "cache": "degraded"}}


def test_a_chunked_body_is_refused_with_411(production_server):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(production_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "POST",
            "/auth/login",
            body=iter([b'{"email": "a@example.com", ', b'"password": "x"}']),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.60"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 411
    assert json.loads(body) == {"detail": "A request body needs a Content-Length header."}


def test_probes_by_ip_address_pass_under_production_hosts(django_db_blocker, tmp_path):
    # Docker's HEALTHCHECK and load balancers call http://<ip>:8000/healthz; the hosts list names the site.
    env = {"DJANGO_ALLOWED_HOSTS": "api.example.com", "DJANGO_SECURE_SSL_REDIRECT": "true"}
    with django_db_blocker.unblock(), wisdom_server(tmp_path, **env) as server:
        health = requests.get(f"{server.url}/healthz", allow_redirects=False)
        ready = requests.get(f"{server.url}/readyz/", allow_redirects=False)
        other = requests.get(f"{server.url}/auth/me", allow_redirects=False)

    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    assert other.status_code == 400  # everything else still checks the Host header
