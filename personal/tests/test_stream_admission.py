"""Stream admission in-process (wisdom here, the agents double over real HTTP): each plan's open streams at once,
refused before upstream is asked and before the message counts; a worker's capacity refused at once with 503;
places freed however a stream ends, kept while it lives, lapsing after the lease; a cache that is down fails open.

Across two gunicorn workers on Redis, a killed worker, a live capacity refusal: tests/test_live_stream_admission.py.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from accounts.models import Plan
from accounts.tests.factories import UserFactory
from personal import admission
from personal.errors import StreamLimitExceeded
from personal.tests.sse import hang_up, names, parse_events
from tests.helpers.auth import bearer
from wisdom.cache import forget_outage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection_kept_open")]

URL = "/personal/entities/ada/messages"


@pytest.fixture(autouse=True, params=["place keys in locmem", "a sorted set in Redis"])
def stream_limits(request, settings):
    """Every test with each book of places: the one for any Django cache and Redis' own."""
    if request.param == "a sorted set in Redis":
        request.getfixturevalue("redis_cache")  # emptied after the test
    else:
        cache.clear()
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 2
    settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS = 3
    settings.PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS = None
    settings.PERSONAL_STREAM_KEEPALIVE_SECONDS = 0.1
    yield
    assert admission.worker_streams.count() == 0  # every test ends every stream it opened


@pytest.fixture
def ada(api_client, user, agents_double):
    assert (
        api_client.post("/personal/entities", {"name": "ada"}, format="json", headers=bearer(user)).status_code == 201
    )
    agents_double.clear_received()


def _open(api_client, user, url=URL):
    """A stream past its first delta (upstream is writing), or the refusal."""
    response = api_client.post(
        url, {"content": "one two"}, format="json", headers={**bearer(user), "Accept": "text/event-stream"}
    )
    if response.streaming:
        chunks = iter(response.streaming_content)
        next(chunks), next(chunks)  # the opening comment and the first delta
        response.chunks = chunks
    return response


def _finish(response) -> list:
    return parse_events(b"".join(response.chunks))


def _chats(double) -> int:
    return sum(1 for call in double.received() if call["path"].endswith("/chat") and call["method"] == "POST")


def test_a_third_stream_of_a_free_user_is_429_before_upstream_is_asked_and_costs_no_message(
    api_client, user, ada, agents_double, settings
):
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 10
    agents_double.switch(stream_step=True, stream_deltas=2)
    first, second = _open(api_client, user), _open(api_client, user)

    refused = _open(api_client, user)

    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "Stream limit reached for the free plan (2 open at once); end one first.",
        "code": "stream_limit_exceeded",
        "plan": "free",
        "limit": 2,
    }
    assert refused["Retry-After"] == "5"
    assert _chats(agents_double) == 2  # the refused one never reached upstream
    agents_double.clear_switches()
    for response in (first, second):
        assert names(_finish(response))[-1] == "done"
    whole = api_client.post(URL, {"content": "hi"}, format="json", headers=bearer(user))
    assert whole["RateLimit"].startswith('"minute";r=7;')  # 2 streams and this message: the refusal cost nothing


def test_a_place_frees_when_a_stream_ends_with_done(api_client, user, ada, agents_double):
    agents_double.switch(stream_step=True, stream_deltas=2)
    first, second = _open(api_client, user), _open(api_client, user)
    agents_double.clear_switches()
    assert names(_finish(first))[-1] == "done"

    third = _open(api_client, user)

    assert third.status_code == 200
    assert admission.stream_use(user=user) == admission.StreamUse(open=2, limit=2)
    _finish(second), _finish(third)
    assert admission.stream_use(user=user) == admission.StreamUse(open=0, limit=2)


def test_a_place_frees_when_the_client_leaves(api_client, user, ada, agents_double):
    agents_double.switch(stream_step=True, stream_deltas=2)
    first, second = _open(api_client, user), _open(api_client, user)

    hang_up(first)
    third = _open(api_client, user)

    assert third.status_code == 200
    hang_up(second), hang_up(third)
    assert admission.stream_use(user=user).open == 0
    assert admission.worker_streams.count() == 0


def test_a_place_frees_when_the_stream_ends_in_error(api_client, user, ada, agents_double):
    agents_double.switch(stream_fault="error_event")
    events = [_finish(_open(api_client, user)) for _ in range(3)]

    assert [names(e)[-1] for e in events] == ["error"] * 3
    assert admission.stream_use(user=user).open == 0


def test_streams_refused_by_upstream_or_by_the_message_limit_hold_no_place(
    api_client, user, ada, agents_double, settings
):
    missing = [_open(api_client, user, url="/personal/entities/nobody/messages") for _ in range(3)]
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 1
    api_client.post(URL, {"content": "hi"}, format="json", headers=bearer(user))
    over_messages = [_open(api_client, user) for _ in range(3)]

    assert [r.status_code for r in missing] == [404] * 3
    assert [r.json()["code"] for r in over_messages] == ["message_quota_exceeded"] * 3
    assert admission.stream_use(user=user).open == 0
    assert admission.worker_streams.count() == 0


def test_each_plan_has_its_own_limit_and_enterprise_has_none(api_client, agents_double):
    pro = UserFactory(email="pro@example.com", plan=Plan.PRO)
    enterprise = UserFactory(email="enterprise@example.com", plan=Plan.ENTERPRISE)
    for person in (pro, enterprise):
        agents_double.seed_entity(name=f"e-{person.pk}", owner_id=str(person.pk))
    agents_double.switch(stream_step=True, stream_deltas=2)

    pro_streams = [_open(api_client, pro, url=f"/personal/entities/e-{pro.pk}/messages") for _ in range(4)]
    enterprise_streams = [
        _open(api_client, enterprise, url=f"/personal/entities/e-{enterprise.pk}/messages") for _ in range(6)
    ]

    assert [r.status_code for r in pro_streams] == [200, 200, 200, 429]
    assert pro_streams[-1].json()["limit"] == 3
    assert [r.status_code for r in enterprise_streams] == [200] * 6
    assert admission.stream_use(user=enterprise) == admission.StreamUse(open=None, limit=None)
    for response in pro_streams[:3] + enterprise_streams:
        hang_up(response)


def test_one_users_streams_do_not_count_against_another(api_client, user, other_user, ada, agents_double):
    agents_double.switch(stream_step=True, stream_deltas=2)
    agents_double.seed_entity(name="bea", owner_id=str(other_user.pk))
    mine = [_open(api_client, user), _open(api_client, user)]

    theirs = _open(api_client, other_user, url="/personal/entities/bea/messages")

    assert theirs.status_code == 200
    for response in (*mine, theirs):
        hang_up(response)


def test_a_downgraded_user_still_counts_places_taken_under_the_bigger_plan(user):
    user.plan = Plan.PRO
    taken = [admission.stream_admit(user=user) for _ in range(3)]
    user.plan = Plan.FREE

    with pytest.raises(StreamLimitExceeded):
        admission.stream_admit(user=user)
    for place in taken:
        place.free()
    assert admission.stream_use(user=user).open == 0


def test_simultaneous_streams_never_pass_the_limit_together(user, settings):
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 3

    def admit(_):
        try:
            return admission.stream_admit(user=user)
        except StreamLimitExceeded:
            return None

    with ThreadPoolExecutor(12) as pool:
        admitted = [a for a in pool.map(admit, range(12)) if a is not None]

    assert len(admitted) == 3
    assert admission.stream_use(user=user).open == 3
    for place in admitted:
        place.free()


def test_a_place_its_worker_never_freed_lapses_after_the_lease(user, settings):
    settings.PERSONAL_STREAM_LEASE_SECONDS = 1
    abandoned = [admission.stream_admit(user=user) for _ in range(2)]  # as a worker killed mid-stream leaves them
    with pytest.raises(StreamLimitExceeded):
        admission.stream_admit(user=user)

    time.sleep(1.5)
    after = admission.stream_admit(user=user)

    assert after.place is not None
    for place in (*abandoned, after):
        place.free()


def test_a_stream_that_lives_past_its_lease_keeps_its_place(api_client, user, ada, agents_double, settings):
    settings.PERSONAL_STREAM_LEASE_SECONDS = 0.6
    agents_double.switch(stream_step=True, stream_deltas=2)  # upstream silent: keep-alives every 0.1 s
    first, second = _open(api_client, user), _open(api_client, user)
    ends = time.monotonic() + 2.0  # over three leases
    while time.monotonic() < ends:
        next(first.chunks), next(second.chunks)

    refused = _open(api_client, user)

    assert refused.status_code == 429
    hang_up(first), hang_up(second)
    after = _open(api_client, user)
    assert after.status_code == 200
    hang_up(after)


def test_past_the_workers_capacity_a_stream_is_503_at_once_with_retry_after(
    api_client, user, other_user, ada, agents_double, settings
):
    settings.PERSONAL_STREAM_CAPACITY = 1
    agents_double.switch(stream_step=True, stream_deltas=2)
    agents_double.seed_entity(name="bea", owner_id=str(other_user.pk))
    held = _open(api_client, user)

    started = time.monotonic()
    refused = _open(api_client, other_user, url="/personal/entities/bea/messages")
    waited = time.monotonic() - started
    whole = api_client.post(
        "/personal/entities/bea/messages", {"content": "hi"}, format="json", headers=bearer(other_user)
    )

    assert refused.status_code == 503
    assert refused.json() == {
        "detail": "The server is relaying as many streams as it can; try again shortly.",
        "code": "stream_capacity_reached",
    }
    assert refused["Retry-After"] == "5"
    assert waited < 5  # refused, not queued behind the open stream (a generous bound)
    assert whole.status_code == 201  # only streams are limited
    assert _chats(agents_double) == 2  # the held stream and the whole message
    hang_up(held)
    again = _open(api_client, other_user, url="/personal/entities/bea/messages")
    assert again.status_code == 200
    hang_up(again)


def test_a_cache_that_is_down_fails_open(api_client, user, ada, agents_double, settings, caplog):
    working = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "wisdom.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    forget_outage()
    agents_double.switch(stream_step=True, stream_deltas=2)
    try:
        with caplog.at_level(logging.WARNING, logger="wisdom.cache"):
            streams = [_open(api_client, user) for _ in range(4)]

        assert [r.status_code for r in streams] == [200] * 4
        assert admission.stream_use(user=user) == admission.StreamUse(open=None, limit=2)
        assert "cache unavailable" in caplog.text
        for response in streams:
            hang_up(response)
        assert admission.worker_streams.count() == 0
    finally:
        settings.CACHES = working
        forget_outage()
