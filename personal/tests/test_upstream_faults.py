"""wisdom in this process over real HTTP to the double: which time-out applies, and the pooled connection.

Every other kind of upstream failure is tested once, against a live gunicorn, in tests/test_faults.py.
"""

import time

import pytest

from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db

TIMED_OUT = {"detail": "The agents service did not answer in time."}


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


def test_calls_reuse_one_pooled_keep_alive_connection(api_client, user, ada, agents_double):
    for _ in range(20):
        assert api_client.get("/personal/entities/ada", headers=bearer(user)).status_code == 200
        assert _chat(api_client, user).status_code == 201

    stats = agents_double.stats()
    assert stats["requests"] == 42  # the create's count and create, then 40 calls
    assert stats["connections"] == 1
