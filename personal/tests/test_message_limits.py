"""Each plan's messages per rolling minute and day: counted before upstream is asked, streamed or not, given
back when upstream refuses; RateLimit headers on every answer; a cache that is down fails open.

Across processes (two gunicorn workers on Redis): tests/test_streaming.py.
"""

import logging
import re
import time

import pytest
import redis

from accounts.tests.factories import UserFactory
from personal import limits
from personal.tests.sse import hang_up, names, parse_events
from tests.helpers.auth import bearer
from tests.helpers.redis_monitor import REDIS_URL, commands_on
from wisdom.cache import forget_outage

pytestmark = pytest.mark.django_db

URL = "/personal/entities/ada/messages"


@pytest.fixture(params=["locmem", "redis"])
def small_limits(request, settings):
    """Limits small enough to reach, counted in the cache the parameter names (Redis: one script per message)."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")  # a prefix of this test's own, emptied after it
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 3
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY = 200
    settings.PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE = 5
    settings.PERSONAL_PRO_TIER_MESSAGES_PER_DAY = 2000


def _entity(api_client, user, name="ada"):
    assert api_client.post("/personal/entities", {"name": name}, format="json", headers=bearer(user)).status_code == 201


def _send(api_client, user, url=URL):
    return api_client.post(url, {"content": "hi"}, format="json", headers=bearer(user))


def _stream(api_client, user):
    response = api_client.post(
        URL, {"content": "hi"}, format="json", headers={**bearer(user), "Accept": "text/event-stream"}
    )
    if response.streaming:
        response.body = b"".join(response.streaming_content)
    return response


def _chats(double) -> int:
    return sum(1 for call in double.received() if call["path"].endswith("/chat") and call["method"] == "POST")


def test_the_fourth_message_in_a_minute_is_429_with_code_plan_limit_window_and_retry_after(
    api_client, user, agents_double, small_limits
):
    _entity(api_client, user)
    assert [_send(api_client, user).status_code for _ in range(3)] == [201, 201, 201]

    refused = _send(api_client, user)

    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "Message limit reached for the free plan (3 per minute).",
        "code": "message_quota_exceeded",
        "plan": "free",
        "limit": 3,
        "window": "minute",
    }
    assert 1 <= int(refused["Retry-After"]) <= 65  # a minute, plus at most one 5 s bucket
    assert refused["RateLimit-Policy"] == '"minute";q=3;w=60, "day";q=200;w=86400'
    assert re.fullmatch(r'"minute";r=0;t=\d+, "day";r=197;t=\d+', refused["RateLimit"])
    assert _chats(agents_double) == 3  # the refused one never reached upstream


def test_every_answer_says_what_is_left(api_client, user, agents_double, small_limits):
    _entity(api_client, user)

    first, second = _send(api_client, user), _send(api_client, user)

    assert first["RateLimit-Policy"] == '"minute";q=3;w=60, "day";q=200;w=86400'
    assert re.fullmatch(r'"minute";r=2;t=6[0-5], "day";r=199;t=\d+', first["RateLimit"])
    assert re.fullmatch(r'"minute";r=1;t=\d+, "day";r=198;t=\d+', second["RateLimit"])


def test_streamed_and_whole_messages_count_alike(api_client, user, agents_double, small_limits):
    _entity(api_client, user)

    streamed = _stream(api_client, user)
    whole = _send(api_client, user)
    streamed_again = _stream(api_client, user)
    refused = _stream(api_client, user)

    assert streamed.status_code == 200 and names(parse_events(streamed.body))[-1] == "done"
    assert re.fullmatch(r'"minute";r=2;t=\d+, .*', streamed["RateLimit"])
    assert whole.status_code == 201 and streamed_again.status_code == 200
    assert refused.status_code == 429 and refused["Content-Type"] == "application/json"
    assert refused.json()["code"] == "message_quota_exceeded"
    assert _chats(agents_double) == 3


def test_messages_upstream_refuses_or_fails_do_not_count(api_client, user, agents_double, small_limits):
    _entity(api_client, user)
    unknown = _send(api_client, user, url="/personal/entities/nobody/messages")
    assert unknown.status_code == 404
    assert re.fullmatch(r'"minute";r=3;t=\d+, "day";r=200;t=\d+', unknown["RateLimit"])
    api_client.post("/personal/entities/ada/pause", headers=bearer(user))
    assert _send(api_client, user).status_code == 409
    api_client.post("/personal/entities/ada/resume", headers=bearer(user))
    agents_double.switch(fault="canned", fault_status=503, fault_times=2)
    assert _send(api_client, user).status_code == 502
    assert _stream(api_client, user).status_code == 502
    agents_double.switch(stream_fault="error_event")
    assert names(parse_events(_stream(api_client, user).body))[-1] == "error"  # broke off after it started
    agents_double.clear_switches()

    assert [_send(api_client, user).status_code for _ in range(4)] == [201, 201, 201, 429]


@pytest.mark.django_db(transaction=True)  # closing the response ends the request: the connection may close
def test_a_client_that_leaves_a_stream_still_used_its_message(api_client, user, agents_double, small_limits):
    _entity(api_client, user)
    agents_double.switch(stream_step=True)
    response = api_client.post(
        URL, {"content": "hi"}, format="json", headers={**bearer(user), "Accept": "text/event-stream"}
    )
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the opening comment and the first delta: upstream is writing the reply
    hang_up(response)
    agents_double.clear_switches()

    assert [_send(api_client, user).status_code for _ in range(3)] == [201, 201, 429]


def test_the_day_window_refuses_with_its_own_name_and_a_retry_after_within_a_day(
    api_client, user, agents_double, settings
):
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = None
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY = 2
    _entity(api_client, user)

    statuses = [_send(api_client, user).status_code for _ in range(3)]
    refused = _send(api_client, user)

    assert statuses == [201, 201, 429]
    assert refused.json()["window"] == "day" and refused.json()["limit"] == 2
    assert 86_400 - 1800 <= int(refused["Retry-After"]) <= 86_400 + 1800
    assert refused["RateLimit-Policy"] == '"day";q=2;w=86400'


def test_each_plan_has_its_own_limits_and_enterprise_has_none(api_client, agents_double, small_limits):
    pro, enterprise = UserFactory(plan="pro"), UserFactory(plan="enterprise")
    _entity(api_client, pro, "pro-entity")
    _entity(api_client, enterprise, "ent-entity")

    pro_statuses = [_send(api_client, pro, "/personal/entities/pro-entity/messages").status_code for _ in range(6)]
    ent = [_send(api_client, enterprise, "/personal/entities/ent-entity/messages") for _ in range(8)]

    assert pro_statuses == [201] * 5 + [429]
    assert [r.status_code for r in ent] == [201] * 8
    assert "RateLimit" not in ent[0] and "RateLimit-Policy" not in ent[0]


def test_one_users_messages_do_not_count_against_another(api_client, user, other_user, agents_double, small_limits):
    _entity(api_client, user)
    _entity(api_client, other_user, "bobs")
    for _ in range(3):
        _send(api_client, user)

    assert _send(api_client, other_user, "/personal/entities/bobs/messages").status_code == 201


def test_a_cache_that_is_down_fails_open_and_is_logged(api_client, user, agents_double, small_limits, settings, caplog):
    _entity(api_client, user)
    settings.CACHES = {"default": {"BACKEND": "wisdom.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}

    forget_outage()
    with caplog.at_level(logging.WARNING, logger="wisdom.cache"):
        statuses = [_send(api_client, user).status_code for _ in range(5)]

    assert statuses == [201] * 5
    assert "RateLimit" not in _send(api_client, user)
    assert caplog.text.count("cache unavailable (ConnectionError)") == 1  # once per outage, not per message
    forget_outage()


def test_simultaneous_messages_never_pass_the_limit_together(user, small_limits):
    """The atomic count orders racing messages: of four at once with three places left, exactly three pass."""
    from concurrent.futures import ThreadPoolExecutor

    from personal.errors import MessageQuotaExceeded

    def take(_):
        try:
            limits.message_take(user=user)
            return True
        except MessageQuotaExceeded:
            return False

    with ThreadPoolExecutor(4) as pool:
        passed = list(pool.map(take, range(4)))

    assert sorted(passed) == [False, True, True, True]


def test_a_message_leaves_the_minute_window_after_a_minute(user, small_limits, monkeypatch):
    clock = [1_000_000.25]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    for _ in range(3):
        limits.message_take(user=user)
    with pytest.raises(Exception) as refused:
        limits.message_take(user=user)
    retry_after = int(refused.value.headers["Retry-After"])

    clock[0] += retry_after

    assert limits.message_take(user=user).headers()["RateLimit"].startswith('"minute";r=2;')  # all three left
    assert 60 <= retry_after <= 65


def test_on_redis_a_message_is_counted_and_its_windows_read_in_one_command(user, settings, redis_cache):
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 3
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY = 200
    limits.message_give_back(allowance=limits.message_take(user=user))  # the script is loaded on first use

    with commands_on(redis_cache) as seen:
        allowance = limits.message_take(user=user)
        limits.message_take(user=user)

    assert [line.split()[0].upper() for line in seen] == ["EVALSHA", "EVALSHA"]
    assert allowance.headers()["RateLimit"].startswith('"minute";r=2;t=')
    assert ', "day";r=199;t=' in allowance.headers()["RateLimit"]
    raw = redis.Redis.from_url(REDIS_URL)
    buckets = {key: (int(raw.get(key)), raw.ttl(key)) for key in raw.scan_iter(f"{redis_cache}:*personal:messages:*")}
    assert sorted(count for count, _ in buckets.values()) == [2, 2]  # the minute's bucket and the day's
    assert sorted(0 < ttl <= 86_400 + 3_600 for _, ttl in buckets.values()) == [True, True]
    assert min(ttl for _, ttl in buckets.values()) <= 70  # the minute's bucket lives a minute and two buckets
