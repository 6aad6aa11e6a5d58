"""Idempotency-Key on creating an entity and sending a message: in-process wisdom, the agents double over HTTP.

Across processes and replicas (gunicorn on Redis, PostgreSQL): tests/test_live_idempotency.py.
"""

import json
import logging

import pytest
from django.core.cache import cache

from personal import idempotency
from tests.helpers.auth import bearer
from wisdom.cache import forget_outage

pytestmark = pytest.mark.django_db

SEND = "/personal/entities/ada/messages"
CREATE = "/personal/entities"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ada(user, agents_double):
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.clear_received()


@pytest.fixture
def small_limits(settings):
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 5
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY = 200


def _post(api_client, user, path, body, key=None, **headers):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return api_client.post(path, body, format="json", headers={**bearer(user), **extra, **headers})


def _calls(double, method: str, suffix: str) -> int:
    return sum(1 for c in double.received() if c["method"] == method and c["path"].endswith(suffix))


def test_a_retried_send_gets_the_first_answer_again_without_asking_upstream_or_charging_again(
    api_client, user, agents_double, ada, small_limits
):
    first = _post(api_client, user, SEND, {"content": "hi"}, key="send-1")
    again = _post(api_client, user, SEND, {"content": "hi"}, key="send-1")
    fresh = _post(api_client, user, SEND, {"content": "hi"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotency-Replayed"] == "true" and not first.has_header("Idempotency-Replayed")
    assert again["RateLimit"] == first["RateLimit"] and again["RateLimit-Policy"] == first["RateLimit-Policy"]
    assert first["RateLimit"].startswith('"minute";r=4;')
    assert fresh["RateLimit"].startswith('"minute";r=3;')  # the replay took no place
    assert _calls(agents_double, "POST", "/chat") == 2  # the first and the fresh one


def test_the_replay_ignores_the_bodys_spacing_and_key_order(api_client, user, agents_double):
    first = _post(api_client, user, CREATE, {"name": "ada", "description": "d"}, key="k")
    raw = b'{ "description" : "d",  "name":"ada" }'
    again = api_client.post(
        CREATE, raw, content_type="application/json", headers={**bearer(user), "Idempotency-Key": "k"}
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"


def test_a_retried_create_is_answered_again_and_counts_once_against_the_quota(
    api_client, user, agents_double, settings
):
    settings.PERSONAL_FREE_TIER_ENTITY_CAP = 1

    first = _post(api_client, user, CREATE, {"name": "ada"}, key="create-ada")
    again = _post(api_client, user, CREATE, {"name": "ada"}, key="create-ada")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert _calls(agents_double, "POST", "/entities") == 1
    assert [e["name"] for e in agents_double.entities()] == ["ada"]


def test_the_same_key_with_another_body_is_422_and_never_sent(api_client, user, agents_double, ada):
    _post(api_client, user, SEND, {"content": "hi"}, key="k")

    reused = _post(api_client, user, SEND, {"content": "something else"}, key="k")

    assert reused.status_code == 422
    assert reused.json() == {
        "detail": "This Idempotency-Key was used for a different request; use a new key for a new request.",
        "code": "idempotency_key_reused",
    }
    assert _calls(agents_double, "POST", "/chat") == 1


def test_the_same_key_on_another_route_is_422(api_client, user, agents_double, ada):
    agents_double.seed_entity(name="bea", owner_id=str(user.pk))
    _post(api_client, user, SEND, {"content": "hi"}, key="k")

    reused = _post(api_client, user, "/personal/entities/bea/messages", {"content": "hi"}, key="k")

    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert _calls(agents_double, "POST", "/bea/chat") == 0


def test_keys_belong_to_one_person(api_client, user, other_user, agents_double, ada):
    agents_double.seed_entity(name="bobs", owner_id=str(other_user.pk))
    mine = _post(api_client, user, SEND, {"content": "hi"}, key="shared")

    theirs = _post(api_client, other_user, "/personal/entities/bobs/messages", {"content": "hi"}, key="shared")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert not theirs.has_header("Idempotency-Replayed")
    assert _calls(agents_double, "POST", "/bobs/chat") == 1


def test_a_request_holding_the_key_makes_the_next_one_409_with_retry_after(api_client, user, agents_double, ada):
    body = {"content": "hi"}
    fingerprint = idempotency.fingerprint(method="POST", path=SEND, body=body)
    held = idempotency.idempotency_claim(user_id=str(user.pk), key="k", fingerprint=fingerprint, lease_seconds=30)
    assert isinstance(held, idempotency.Claim)

    second = _post(api_client, user, SEND, body, key="k")

    assert second.status_code == 409
    assert second.json() == {
        "detail": "A request with this Idempotency-Key is still in progress; retry shortly.",
        "code": "idempotency_in_progress",
    }
    assert second["Retry-After"] == "1"
    assert agents_double.received() == []


def test_a_key_of_255_printable_characters_is_honoured(api_client, user, agents_double, ada):
    key = "".join(chr(0x20 + i % 95) for i in range(255))

    first = _post(api_client, user, SEND, {"content": "hi"}, key=key)
    again = _post(api_client, user, SEND, {"content": "hi"}, key=key)

    assert (first.status_code, again.status_code) == (201, 201) and again["Idempotency-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "caf\u00e9", "new\nline"])
@pytest.mark.parametrize("path", [CREATE, SEND])
def test_a_key_that_is_empty_too_long_or_not_printable_ascii_is_400_and_never_sent(
    api_client, user, agents_double, ada, key, path
):
    response = _post(api_client, user, path, {"content": "hi"} if path == SEND else {"name": "bea"}, key=key)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        "errors": {"non_field_errors": ["Idempotency-Key must be 1 to 255 printable ASCII characters."]},
    }
    assert agents_double.received() == []


def test_a_refusal_that_completed_is_replayed(api_client, user, agents_double):
    first = _post(api_client, user, "/personal/entities/nobody/messages", {"content": "hi"}, key="k")
    again = _post(api_client, user, "/personal/entities/nobody/messages", {"content": "hi"}, key="k")

    assert (first.status_code, again.status_code) == (404, 404)
    assert again.json() == first.json() and again["Idempotency-Replayed"] == "true"
    assert _calls(agents_double, "POST", "/chat") == 1


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"fault": "canned", "fault_status": 500}, 502),
        ({"fault": "canned", "fault_status": 429, "fault_headers": {"Retry-After": "1"}}, 429),
    ],
)
def test_a_failure_or_429_is_not_kept_so_the_retry_is_sent_for_real(
    api_client, user, agents_double, ada, fault, status
):
    agents_double.switch(**fault, fault_match="chat", fault_times=1)

    failed = _post(api_client, user, SEND, {"content": "hi"}, key="k")
    retried = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert (failed.status_code, retried.status_code) == (status, 201)
    assert not retried.has_header("Idempotency-Replayed")
    assert _calls(agents_double, "POST", "/chat") == 2


def test_a_timeout_is_not_kept(api_client, user, agents_double, ada, settings):
    settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = 0.3
    agents_double.switch(fault="hang", fault_match="chat", fault_times=1)

    timed_out = _post(api_client, user, SEND, {"content": "hi"}, key="k")
    retried = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert (timed_out.status_code, retried.status_code) == (504, 201)


def test_the_plans_message_limit_429_is_not_kept(api_client, user, agents_double, ada, settings):
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 1
    _post(api_client, user, SEND, {"content": "first"})

    refused = _post(api_client, user, SEND, {"content": "hi"}, key="k")
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 2
    retried = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert (refused.status_code, retried.status_code) == (429, 201)
    assert not retried.has_header("Idempotency-Replayed")


def test_a_body_to_fix_is_not_kept(api_client, user, agents_double, ada):
    invalid = _post(api_client, user, SEND, {"content": ""}, key="k")
    fixed = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert (invalid.status_code, fixed.status_code) == (400, 201)
    assert _calls(agents_double, "POST", "/chat") == 1


def test_an_unexpected_error_frees_the_key(api_client, user, agents_double, ada, monkeypatch):
    from personal import services

    real_send = services.message_send
    monkeypatch.setattr(services, "message_send", lambda **kwargs: 1 / 0)
    api_client.raise_request_exception = False
    crashed = _post(api_client, user, SEND, {"content": "hi"}, key="k")
    monkeypatch.setattr(services, "message_send", real_send)
    retried = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert (crashed.status_code, retried.status_code) == (500, 201)


@pytest.mark.parametrize("key", ["k", "k" * 256])
def test_a_streamed_send_is_not_replayed_and_ignores_the_key(api_client, user, agents_double, ada, key):
    streams = [_post(api_client, user, SEND, {"content": "hi"}, key=key, Accept="text/event-stream") for _ in range(2)]
    bodies = [b"".join(response.streaming_content) for response in streams]
    whole = _post(api_client, user, SEND, {"content": "hi"}, key="k")

    assert [response.status_code for response in streams] == [200, 200]
    assert all(b"event: done" in body for body in bodies)
    assert whole.status_code == 201 and not whole.has_header("Idempotency-Replayed")
    assert _calls(agents_double, "POST", "/chat") == 3


def test_a_request_that_outlived_its_lease_leaves_the_next_holders_key_alone(user):
    body = {"content": "hi"}
    fingerprint = idempotency.fingerprint(method="POST", path=SEND, body=body)
    late = idempotency.idempotency_claim(user_id=str(user.pk), key="k", fingerprint=fingerprint, lease_seconds=30)
    cache.delete(late.record_key)  # its lease ended
    holder = idempotency.idempotency_claim(user_id=str(user.pk), key="k", fingerprint=fingerprint, lease_seconds=30)

    idempotency.idempotency_release(claim=late)

    assert cache.get(holder.record_key)["token"] == holder.token


def test_a_cache_that_is_down_serves_each_request_without_idempotency(
    api_client, user, agents_double, ada, settings, caplog
):
    settings.CACHES = {"default": {"BACKEND": "wisdom.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    forget_outage()
    try:
        with caplog.at_level(logging.WARNING, logger="wisdom.cache"):
            answers = [_post(api_client, user, SEND, {"content": "hi"}, key="k") for _ in range(2)]
    finally:
        forget_outage()

    assert [a.status_code for a in answers] == [201, 201]
    assert not any(a.has_header("Idempotency-Replayed") for a in answers)
    assert _calls(agents_double, "POST", "/chat") == 2
    assert "cache unavailable (ConnectionError)" in caplog.text


def test_the_key_never_travels_upstream(api_client, user, agents_double, ada):
    _post(api_client, user, SEND, {"content": "hi"}, key="secret-ish-key")

    assert "secret-ish-key" not in json.dumps(agents_double.received())
