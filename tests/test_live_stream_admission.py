"""Stream admission on running gunicorns sharing Redis (or none): a user's open streams counted across
processes, a worker's capacity refused at once, a killed worker's places back after their lease, a cache that is
down failing open; and /personal/usage agreeing with the RateLimit fields across two workers."""

import contextlib
import re
import signal
import time
import uuid

import psutil
import pytest
import redis
import requests

from tests.helpers.auth import bearer
from tests.helpers.live import wisdom_server
from tests.helpers.processes import free_port
from tests.helpers.sse import EventStreamClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REDIS_DB = 4  # a database number of this module's own on the shared Redis; keys also carry a run-unique prefix
LEASE_SECONDS = 3
URL = "/personal/entities/ada/messages"
RATE_LIMIT = re.compile(r'"minute";r=(\d+);t=(\d+), "day";r=(\d+);t=(\d+)')


@pytest.fixture
def redis_prefix():
    prefix = f"wisdom-admission-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.fixture
def start(agents_double, redis_prefix, tmp_path):
    """Starts gunicorns in front of the double, sharing one Redis database and key prefix."""

    def start_one(stack: contextlib.ExitStack, **env: str):
        settings = {
            "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "CACHE_KEY_PREFIX": redis_prefix,
            "PERSONAL_FREE_TIER_CONCURRENT_STREAMS": "2",
            "PERSONAL_STREAM_KEEPALIVE_SECONDS": "0.5",
            "PERSONAL_STREAM_LEASE_SECONDS": str(LEASE_SECONDS),
            **env,
        }
        return stack.enter_context(wisdom_server(tmp_path, threads=8, double=agents_double, **settings))

    return start_one


@pytest.fixture
def alice(make_live_user):
    return make_live_user(email="alice.admission@example.com")


@pytest.fixture
def ada(alice, agents_double):
    assert agents_double.seed_entity(name="ada", owner_id=str(alice.pk)).status_code == 201
    agents_double.clear_received()


def _hold(agents_double) -> None:
    """Streams opened from now on stay open after their first delta until the switches change."""
    agents_double.switch(stream_step=True, stream_deltas=2)


def _open(server, user, path=URL) -> EventStreamClient:
    stream = EventStreamClient(server.url, path, headers=bearer(user), body={"content": "one two"}, timeout=30)
    if stream.status == 200:
        assert stream.next_event()[0] == "delta"  # admitted, upstream writing
    return stream


def _wait_for(predicate, seconds=20.0):
    """A generous bound on a wait, never a timed assertion."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def test_a_users_third_stream_is_refused_across_two_servers_and_admitted_once_one_ends(
    start, agents_double, alice, ada
):
    _hold(agents_double)
    with contextlib.ExitStack() as stack:
        one, two = start(stack, WEB_CONCURRENCY="1"), start(stack, WEB_CONCURRENCY="1")
        streams = [_open(one, alice), _open(two, alice)]
        try:
            refused = [_open(one, alice), _open(two, alice)]
            chats_while_full = len(agents_double.received())

            agents_double.clear_switches()  # the held streams go on to their end
            ended = [stream.events() for stream in streams]
            _hold(agents_double)
            after = _open(two, alice)
            streams.append(after)
        finally:
            for stream in streams:
                stream.hang_up()

    assert [stream.status for stream in refused] == [429, 429]
    assert [stream.json() for stream in refused] == [
        {
            "detail": "Stream limit reached for the free plan (2 open at once); end one first.",
            "code": "stream_limit_exceeded",
            "plan": "free",
            "limit": 2,
        }
    ] * 2
    assert chats_while_full == 2  # the refused streams never reached upstream
    assert [events[-1][0] for events in ended] == ["done", "done"]
    assert after.status == 200


def test_past_a_workers_capacity_a_stream_is_503_at_once_and_other_routes_answer(
    start, agents_double, alice, ada, make_live_user
):
    bob = make_live_user(email="bob.admission@example.com")
    assert agents_double.seed_entity(name="bea", owner_id=str(bob.pk)).status_code == 201
    _hold(agents_double)
    with contextlib.ExitStack() as stack:
        server = start(stack, WEB_CONCURRENCY="1", PERSONAL_STREAM_CAPACITY="1")
        held = _open(server, alice)
        try:
            started = time.monotonic()
            refused = _open(server, bob, path="/personal/entities/bea/messages")
            waited = time.monotonic() - started
            whole = requests.post(
                f"{server.url}/personal/entities/bea/messages", json={"content": "hi"}, headers=bearer(bob), timeout=30
            )
            health = requests.get(f"{server.url}/healthz", timeout=10)
        finally:
            held.hang_up()
        _hold(agents_double)
        again = _wait_for(lambda: _admitted(_open(server, bob, path="/personal/entities/bea/messages")))
        again.hang_up()

    assert refused.status == 503
    assert refused.json() == {
        "detail": "The server is relaying as many streams as it can; try again shortly.",
        "code": "stream_capacity_reached",
    }
    assert refused.headers["Retry-After"] == "5"
    assert waited < 10  # refused at once, not queued behind the open stream (a generous bound)
    assert whole.status_code == 201 and health.status_code == 200
    assert again.status == 200  # the place came back when the stream ended


def _admitted(stream: EventStreamClient) -> EventStreamClient | None:
    if stream.status == 200:
        return stream
    stream.close()
    return None


def _healthy(server) -> bool:
    try:
        return requests.get(f"{server.url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_workers_places_come_back_after_their_lease(start, agents_double, alice, ada, redis_prefix):
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    places = f"{redis_prefix}:*personal:streams:{alice.pk}"  # one sorted set: a token per place
    _hold(agents_double)
    with contextlib.ExitStack() as stack:
        server = start(stack, WEB_CONCURRENCY="1")
        streams = [_open(server, alice), _open(server, alice)]
        [worker] = psutil.Process(server.process.pid).children()
        worker.send_signal(signal.SIGKILL)  # mid-stream: nothing in that process frees its places
        worker.wait(timeout=10)
        [key] = store.scan_iter(places)
        held, expires_in = store.zcard(key), store.pttl(key)
        for stream in streams:
            stream.close()
        assert _wait_for(lambda: _healthy(server)), "no worker came back"

        _hold(agents_double)
        admitted = _wait_for(lambda: _admitted(_open(server, alice)), seconds=LEASE_SECONDS * 5)
        if admitted is not None:
            admitted.hang_up()
        after = _wait_for(lambda: not list(store.scan_iter(places)))

    assert held == 2  # the dead worker's places are still counted...
    assert 0 < expires_in <= LEASE_SECONDS * 1000  # ...until their lease runs out
    assert admitted is not None and admitted.status == 200
    assert after  # and the admitted stream freed its own place when it ended


def test_with_the_cache_down_streams_and_usage_fail_open(agents_double, alice, ada, tmp_path):
    _hold(agents_double)
    with wisdom_server(
        tmp_path,
        workers=2,
        threads=8,
        double=agents_double,
        CACHE_URL=f"redis://127.0.0.1:{free_port()}/0",
        PERSONAL_FREE_TIER_CONCURRENT_STREAMS="2",
    ) as server:
        streams = [_open(server, alice) for _ in range(3)]
        try:
            usage = requests.get(f"{server.url}/personal/usage", headers=bearer(alice), timeout=30)
        finally:
            for stream in streams:
                stream.hang_up()

    assert [stream.status for stream in streams] == [200] * 3  # over the limit of 2: not counted, let through
    assert usage.status_code == 200
    assert usage.json()["streams"] == {"open": None, "limit": 2}
    assert usage.json()["messages"]["minute"]["used"] is None


def test_usage_agrees_with_the_ratelimit_fields_across_two_workers(start, agents_double, alice, ada):
    with contextlib.ExitStack() as stack:
        server = start(
            stack,
            WEB_CONCURRENCY="2",
            PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE="10",
            PERSONAL_FREE_TIER_MESSAGES_PER_DAY="200",
            PERSONAL_FREE_TIER_ENTITY_CAP="3",
        )
        answers = []
        for _ in range(4):  # a connection of its own each: the kernel hands them to either worker
            answers.append(
                requests.post(f"{server.url}{URL}", json={"content": "hi"}, headers=bearer(alice), timeout=30)
            )
        _hold(agents_double)
        stream = _open(server, alice)
        try:
            usage = requests.get(f"{server.url}/personal/usage", headers=bearer(alice), timeout=30)
        finally:
            stream.hang_up()

    assert [answer.status_code for answer in answers] == [201] * 4
    minute_left, minute_reset, day_left, day_reset = map(
        int, RATE_LIMIT.fullmatch(stream.headers["RateLimit"]).groups()
    )
    body = usage.json()
    assert body["plan"] == "free"
    assert body["entities"] == {"used": 1, "limit": 3}
    assert body["messages"]["minute"]["used"] == 5 == 10 - minute_left  # four whole and one streamed
    assert body["messages"]["day"]["used"] == 5 == 200 - day_left
    assert abs(body["messages"]["minute"]["reset_seconds"] - minute_reset) <= 2
    assert abs(body["messages"]["day"]["reset_seconds"] - day_reset) <= 2
    assert body["streams"] == {"open": 1, "limit": 2}
