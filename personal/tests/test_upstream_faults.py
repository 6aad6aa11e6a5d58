"""A misbehaving agents service, over real HTTP (the double's switches): time-outs, resets, junk, restarts, pools."""

import time

import pytest

from tests.helpers.auth import bearer
from tests.helpers.constants import AGENTS_API_KEY
from tests.helpers.double import running_double

pytestmark = pytest.mark.django_db

FAILED = {"detail": "The agents service failed; try again later."}
TIMED_OUT = {"detail": "The agents service did not answer in time."}
UNREACHABLE = {"detail": "The agents service is unreachable."}


@pytest.fixture
def ada(api_client, user, agents_double):
    created = api_client.post("/personal/entities", {"name": "ada"}, format="json", headers=bearer(user))
    assert created.status_code == 201
    agents_double.clear_received()


def _chat(api_client, user, content="hi"):
    return api_client.post("/personal/entities/ada/messages", {"content": content}, format="json", headers=bearer(user))


def test_a_slow_read_is_504_after_the_read_timeout(api_client, user, agents_double, settings):
    settings.INTUNO_AGENTS_TIMEOUT_SECONDS = 0.2
    agents_double.switch(latency_ms=1000)

    started = time.monotonic()
    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 504
    assert response.json() == TIMED_OUT
    assert time.monotonic() - started < 0.9
    assert len(agents_double.received()) == 1  # a time-out is not retried


def test_a_chat_waits_for_the_chat_timeout_not_the_read_timeout(api_client, user, ada, agents_double, settings):
    settings.INTUNO_AGENTS_TIMEOUT_SECONDS = 0.1
    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 3
    agents_double.switch(latency_ms=400, latency_match="chat$")

    assert _chat(api_client, user).status_code == 201

    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 0.2
    assert _chat(api_client, user).json() == TIMED_OUT


def test_a_hanging_service_is_504(api_client, user, ada, agents_double, settings):
    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 0.3
    agents_double.switch(fault="hang")

    response = _chat(api_client, user)

    assert response.status_code == 504
    assert response.json() == TIMED_OUT


def test_a_connection_reset_before_an_answer_is_502_unreachable(api_client, user, ada, agents_double):
    agents_double.switch(fault="down")

    response = _chat(api_client, user)

    assert response.status_code == 502
    assert response.json() == UNREACHABLE
    assert len(agents_double.received()) == 1  # a chat is never retried


def test_a_reset_in_the_middle_of_the_body_is_502(api_client, user, agents_double):
    agents_double.switch(fault="reset_mid_body")

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 502
    assert response.json() == FAILED


def test_a_non_json_success_is_502(api_client, user, agents_double):
    agents_double.switch(fault="non_json")

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 502
    assert response.json() == FAILED


def test_a_500_with_a_body_is_502_and_the_body_is_logged_not_returned(api_client, user, agents_double, caplog):
    agents_double.switch(fault="canned", fault_status=500, fault_body='{"detail": "internal db=agents-prod"}')

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 502
    assert response.json() == FAILED
    assert "agents-prod" in caplog.text and "agents-prod" not in response.content.decode()


def test_a_429_from_upstream_keeps_retry_after(api_client, user, agents_double):
    agents_double.switch(
        fault="canned", fault_status=429, fault_body='{"detail": "Slow down."}', fault_headers={"Retry-After": "9"}
    )

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 429
    assert response["Retry-After"] == "9"
    assert response.json() == {"detail": "Slow down."}


def test_upstream_rejecting_the_key_is_502_and_the_key_is_never_printed(api_client, user, agents_double, caplog):
    agents_double.switch(fault="unauthorized")

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 502
    assert response.json() == {"detail": "The agents service rejected this server's credentials"}
    assert AGENTS_API_KEY not in caplog.text
    assert any(r.levelname == "ERROR" for r in caplog.records if r.name == "personal.client")


def test_a_wrong_key_is_what_the_double_rejects(api_client, user, agents_double, settings):
    settings.INTUNO_AGENTS_API_KEY = "not-the-key"

    response = api_client.get("/personal/entities", headers=bearer(user))

    assert response.status_code == 502
    assert response.json() == {"detail": "The agents service rejected this server's credentials"}


def test_calls_reuse_one_pooled_keep_alive_connection(api_client, user, ada, agents_double):
    for _ in range(20):
        assert api_client.get("/personal/entities/ada", headers=bearer(user)).status_code == 200
        assert _chat(api_client, user).status_code == 201

    stats = agents_double.stats()
    assert stats["requests"] == 42  # the create's count and create, then 40 calls
    assert stats["connections"] == 1


def test_a_restarted_service_is_picked_up_without_restarting_wisdom(api_client, user, settings, tmp_path):
    with running_double(api_key=AGENTS_API_KEY, log_path=tmp_path / "double.log") as double:
        settings.INTUNO_AGENTS_BASE_URL = double.url
        settings.INTUNO_AGENTS_API_KEY = AGENTS_API_KEY
        assert api_client.get("/personal/entities", headers=bearer(user)).status_code == 200

        double.restart()  # the pooled connection to the old process is now dead

        created = api_client.post("/personal/entities", {"name": "ada"}, format="json", headers=bearer(user))
        assert created.status_code == 201
        double.restart()
        assert _chat(api_client, user).status_code == 404  # a fresh double: ada is gone, but it answered
        assert api_client.get("/personal/entities", headers=bearer(user)).json() == []


def test_a_stopped_service_is_502_unreachable_and_recovery_needs_no_restart(api_client, user, settings, tmp_path):
    with running_double(api_key=AGENTS_API_KEY, log_path=tmp_path / "double.log") as double:
        settings.INTUNO_AGENTS_BASE_URL = double.url
        settings.INTUNO_AGENTS_API_KEY = AGENTS_API_KEY
        assert api_client.get("/personal/entities", headers=bearer(user)).status_code == 200

        double.stop()
        down = api_client.get("/personal/entities", headers=bearer(user))
        double.start()
        up = api_client.get("/personal/entities", headers=bearer(user))

    assert (down.status_code, down.json()) == (502, UNREACHABLE)
    assert up.status_code == 200
