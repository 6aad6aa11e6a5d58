"""The answers a client gets when the agents service misbehaves: status, body, headers; never a 500 or a leak."""

import pytest
import requests
import responses

from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db

BASE = "http://agents.test"
FAILED = {"detail": "The agents service failed; try again later."}


@pytest.fixture
def upstream(settings):
    settings.INTUNO_AGENTS_BASE_URL = BASE
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def _get(api_client, user):
    return api_client.get("/personal/entities/ada", headers=bearer(user))


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_a_refusal_keeps_its_status_and_upstreams_detail(api_client, user, upstream, status):
    upstream.get(f"{BASE}/entities/ada", json={"detail": "upstream's reason"}, status=status)

    response = _get(api_client, user)

    assert response.status_code == status
    assert response.json() == {"detail": "upstream's reason"}


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (400, "The agents service refused the request."),
        (403, "You do not have permission to perform this action."),
        (404, "Not found."),
        (409, "The request conflicts with the entity's current state."),
        (422, "The agents service could not process the request."),
    ],
)
def test_a_refusal_without_json_gets_a_generic_detail(api_client, user, upstream, status, detail):
    upstream.get(f"{BASE}/entities/ada", body="<html>secret page</html>", status=status)

    response = _get(api_client, user)

    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_429_keeps_retry_after(api_client, user, upstream):
    upstream.get(f"{BASE}/entities/ada", json={"detail": "Slow down."}, status=429, headers={"Retry-After": "30"})

    response = _get(api_client, user)

    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": "Slow down."}


def test_429_without_retry_after_or_json(api_client, user, upstream):
    upstream.get(f"{BASE}/entities/ada", body="busy", status=429)

    response = _get(api_client, user)

    assert response.status_code == 429
    assert "Retry-After" not in response
    assert response.json() == {"detail": "Too many requests; try again later."}


def test_401_is_a_502_naming_the_credentials_and_never_the_key(api_client, user, upstream, caplog, settings):
    upstream.get(f"{BASE}/entities/ada", json={"detail": "bad key"}, status=401)

    response = _get(api_client, user)

    assert response.status_code == 502
    assert response.json() == {"detail": "The agents service rejected this server's credentials"}
    assert "WWW-Authenticate" not in response
    assert any(r.levelname == "ERROR" and r.name == "personal.client" for r in caplog.records)
    assert settings.INTUNO_AGENTS_API_KEY not in caplog.text + response.content.decode()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 302, 418])
def test_a_server_error_or_odd_status_is_502_and_its_body_is_logged_not_returned(
    api_client, user, upstream, caplog, status
):
    upstream.get(f"{BASE}/entities/ada", body="Traceback ... password=hunter2 internal-detail", status=status)

    response = _get(api_client, user)

    assert response.status_code == 502
    assert response.json() == FAILED
    assert "internal-detail" in caplog.text and "internal-detail" not in response.content.decode()
    assert "hunter2" not in response.content.decode()
    error = next(r for r in caplog.records if r.name == "personal.client")
    assert response["X-Request-ID"] in error.getMessage()


@pytest.mark.parametrize("body", [b"<html>ok</html>", b"[]", b""])
def test_a_success_that_is_not_a_json_object_is_502(api_client, user, upstream, body):
    upstream.get(f"{BASE}/entities/ada", body=body, status=200)

    response = _get(api_client, user)

    assert response.status_code == 502
    assert response.json() == FAILED


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (requests.ConnectionError("Connection refused"), 502, "The agents service is unreachable."),
        (requests.ConnectTimeout("connect"), 504, "The agents service did not answer in time."),
        (requests.ReadTimeout("read"), 504, "The agents service did not answer in time."),
        (requests.exceptions.ChunkedEncodingError("broken"), 502, FAILED["detail"]),
    ],
)
def test_transport_failures_map_to_502_or_504(api_client, user, upstream, error, status, detail):
    upstream.get(f"{BASE}/entities/ada", body=error)

    response = _get(api_client, user)

    assert response.status_code == status
    assert response.json() == {"detail": detail}


def test_a_name_that_does_not_resolve_is_502_unreachable(api_client, user, settings):
    settings.INTUNO_AGENTS_BASE_URL = "http://agents.invalid"

    response = _get(api_client, user)

    assert response.status_code == 502
    assert response.json() == {"detail": "The agents service is unreachable."}


def test_a_refused_connection_is_502_unreachable(api_client, user, settings):
    from tests.helpers.processes import free_port

    settings.INTUNO_AGENTS_BASE_URL = f"http://127.0.0.1:{free_port()}"

    response = api_client.post(
        "/personal/entities/ada/messages", {"content": "hi"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 502
    assert response.json() == {"detail": "The agents service is unreachable."}
