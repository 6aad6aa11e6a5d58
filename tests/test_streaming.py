"""Streamed chats and message limits on a running gunicorn (the committed gunicorn.conf.py), calling the double:
events reach the client as they arrive, a client that leaves frees its thread and upstream's connection, the
access line is written at the stream's end, no database connection is held while streaming, and the message
limits hold across two workers sharing Redis."""

import contextlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.helpers import live
from tests.helpers.auth import bearer
from tests.helpers.live import wisdom_server
from tests.helpers.nginx import NGINX, nginx_proxy
from tests.helpers.sse import EventStreamClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

FRONTEND = "http://127.0.0.1:5173"
REDIS_DB = 13  # a database number of the suite's own on the shared Redis; keys also carry a run-unique prefix


def _wait_for(predicate, seconds=15.0):
    """A generous bound on a wait, never a timed assertion."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def stream_server(django_db_setup, django_db_blocker, tmp_path_factory, agents_double_session):
    """2 workers x 4 threads, keep-alives every 0.2 s, JSON logs, CORS for the frontend's origin."""
    with (
        django_db_blocker.unblock(),
        wisdom_server(
            tmp_path_factory.mktemp("stream"),
            workers=2,
            threads=4,
            double=agents_double_session,
            LOG_FORMAT="json",
            PERSONAL_STREAM_KEEPALIVE_SECONDS="0.2",
            CORS_ALLOWED_ORIGINS=FRONTEND,
        ) as server,
    ):
        yield server


@pytest.fixture
def alice(make_live_user):
    return make_live_user(email="alice.stream@example.com")


@pytest.fixture
def ada(alice, agents_double):
    created = agents_double.seed_entity(name="ada", owner_id=str(alice.pk))
    assert created.status_code == 201
    agents_double.clear_received()


def _open(server, user, content="one two three", path="/personal/entities/ada/messages", **headers):
    return EventStreamClient(server.url, path, headers={**bearer(user), **headers}, body={"content": content})


def _access_lines(server) -> dict[str, dict]:
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    return {line["request_id"]: line for line in lines if line.get("logger") == "wisdom.access"}


def test_each_event_reaches_the_client_as_upstream_sends_it(stream_server, agents_double, alice, ada):
    agents_double.switch(stream_step=True)  # each delta after the first waits for the test
    stream = _open(stream_server, alice, "one two")
    try:
        assert stream.status == 200
        assert stream.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["Transfer-Encoding"] == "chunked"  # no Content-Length: nothing waited for the end
        assert stream.headers["Cache-Control"] == "no-cache" and stream.headers["X-Accel-Buffering"] == "no"
        assert stream.next_event() == ("delta", {"text": "You "})
        for released, text in enumerate(["said: ", "one ", "two"], start=1):
            assert agents_double.streams()[0]["deltas_sent"] == released  # the next one is not even sent yet
            agents_double.switch(stream_step=True)
            assert stream.next_event() == ("delta", {"text": text})
        name, done = stream.next_event()
        assert name == "done" and done["reply"] == "You said: one two"
        assert stream.next_event() is None
    finally:
        stream.close()


def test_the_request_id_travels_upstream_and_back(stream_server, agents_double, alice, ada):
    stream = _open(stream_server, alice, "hi", **{"X-Request-ID": "live-stream-trace"})
    try:
        assert stream.headers["X-Request-ID"] == "live-stream-trace"
        assert [name for name, _ in stream.events()] == ["delta", "delta", "delta", "done"]
    finally:
        stream.close()
    [call] = agents_double.received()
    assert call["headers"]["X-Request-ID"] == "live-stream-trace"
    assert call["headers"]["Accept"] == "text/event-stream"


def test_the_access_line_is_written_when_the_stream_ends(stream_server, agents_double, alice, ada):
    agents_double.switch(stream_delta_ms=300)
    stream = _open(stream_server, alice, "slowly now")
    try:
        events = stream.events()
    finally:
        stream.close()
    request_id = stream.headers["X-Request-ID"]

    line = _wait_for(lambda: _access_lines(stream_server).get(request_id))
    assert [name for name, _ in events][-1] == "done"
    assert line["status"] == 200 and line["path"] == "/personal/entities/ada/messages"
    assert line["stream_outcome"] == "done"
    assert line["stream_bytes"] == len(stream.received)
    assert line["duration_ms"] >= 3 * 300  # written at the end: after the double's three pauses between deltas
    assert line["upstream_status"] == 200 and line["user_id"] == str(alice.pk)


def test_a_client_that_goes_away_closes_upstream_frees_its_thread_and_is_logged(
    stream_server, agents_double, alice, ada
):
    agents_double.switch(stream_step=True)  # upstream would wait for ever after its first delta
    request_ids = []
    for _ in range(3 * 2 * 4):  # three times every thread of both workers
        stream = _open(stream_server, alice, "left early")
        assert stream.next_event() == ("delta", {"text": "You "})
        request_ids.append(stream.headers["X-Request-ID"])
        stream.hang_up()
        # the next keep-alive write fails (within a few 0.2 s keep-alives): wisdom closes upstream's connection
        assert _wait_for(lambda: agents_double.streams()[-1]["outcome"]) == "client_gone"

    assert [s["outcome"] for s in agents_double.streams()] == ["client_gone"] * 24
    assert requests.get(f"{stream_server.url}/personal/entities", headers=bearer(alice), timeout=10).ok
    lines = _access_lines(stream_server)
    assert [lines[request_id]["stream_outcome"] for request_id in request_ids] == ["client_gone"] * len(request_ids)
    assert "client went away after 1 relayed events" in stream_server.log()


def test_an_error_after_the_first_byte_is_an_error_event_and_before_it_a_json_status(
    stream_server, agents_double, alice, ada
):
    agents_double.switch(stream_fault="error_event")
    broken = _open(stream_server, alice)
    try:
        assert broken.events() == [
            ("delta", {"text": "You "}),
            ("error", {"detail": "The agents service failed; try again later.", "status": 502}),
        ]
    finally:
        broken.close()
    unknown = _open(stream_server, alice, path="/personal/entities/nobody/messages")
    try:
        assert unknown.status == 404
        assert unknown.headers["Content-Type"] == "application/json"
        assert unknown.json() == {"detail": "Entity not found."}
    finally:
        unknown.close()
    assert "sk-live-upstream-secret" not in json.dumps(broken.received.decode())


def test_the_frontend_origin_may_read_the_stream_and_its_limit_headers(stream_server, agents_double, alice, ada):
    url = f"{stream_server.url}/personal/entities/ada/messages"
    preflight = requests.options(
        url,
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    stream = _open(stream_server, alice, "hi", Origin=FRONTEND)
    try:
        stream.events()
    finally:
        stream.close()

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == FRONTEND
    assert stream.headers["Access-Control-Allow-Origin"] == FRONTEND
    exposed = {name.strip().lower() for name in stream.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ratelimit", "ratelimit-policy", "retry-after", "x-request-id"} <= exposed


@pytest.mark.postgres_only
def test_no_database_connection_is_held_while_streaming(agents_double, alice, ada, tmp_path):
    """Without a pool, a connection exists only while a request holds one: pg_stat_activity shows none of this
    server's while three streams are open mid-reply."""
    from django.db import connection

    probe = f"wisdom-stream-{uuid.uuid4().hex[:8]}"
    agents_double.switch(stream_step=True)
    with wisdom_server(
        tmp_path,
        workers=1,
        threads=8,
        double=agents_double,
        DATABASE_URL=f"{live.test_database_url()}?application_name={probe}",
        DATABASE_POOL_MAX_SIZE="0",
    ) as server:
        streams = [_open(server, alice, "hold on") for _ in range(3)]
        try:
            assert [stream.next_event() for stream in streams] == [("delta", {"text": "You "})] * 3
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [probe])
                (held,) = cursor.fetchone()
            assert requests.get(f"{server.url}/auth/me", headers=bearer(alice), timeout=10).status_code == 200
        finally:
            for stream in streams:
                stream.hang_up()
    assert held == 0
    assert agents_double.streams()[0]["deltas_sent"] == 1


@pytest.mark.race
def test_message_limits_hold_across_two_workers_sharing_redis(agents_double, alice, ada, tmp_path):
    """12 messages at once (streamed and not) from one free user with 5 a minute: exactly 5 reach upstream."""
    import redis

    prefix = f"wisdom-limits-{uuid.uuid4().hex[:8]}"
    with wisdom_server(
        tmp_path,
        workers=2,
        threads=8,
        double=agents_double,
        CACHE_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CACHE_KEY_PREFIX=prefix,
        PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE="5",
        PERSONAL_FREE_TIER_MESSAGES_PER_DAY="200",
    ) as server:
        url = f"{server.url}/personal/entities/ada/messages"
        headers = bearer(alice)

        def send(streamed: bool) -> tuple[int, dict]:
            # a connection of its own each: the kernel hands them to either worker
            accept = {"Accept": "text/event-stream"} if streamed else {}
            response = requests.post(url, json={"content": "hi"}, headers={**headers, **accept}, timeout=30)
            return response.status_code, dict(response.headers)

        try:
            with ThreadPoolExecutor(12) as pool:
                answers = list(pool.map(send, [i % 2 == 0 for i in range(12)]))
            after = send(False)
        finally:
            client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)

    statuses = [status for status, _ in answers]
    assert statuses.count(429) == 7 and set(statuses) - {429} <= {200, 201}  # 5 passed, streamed or not
    assert sum(1 for c in agents_double.received() if c["path"] == "/entities/ada/chat") == 5
    refused = next(h for status, h in answers if status == 429)
    assert refused["RateLimit-Policy"] == '"minute";q=5;w=60, "day";q=200;w=86400'
    assert refused["RateLimit"].startswith('"minute";r=0;') and 1 <= int(refused["Retry-After"]) <= 65
    assert after[0] == 429


SILENT_KEEPALIVE_SECONDS = 10


@pytest.mark.parametrize("through_nginx", [False, True], ids=["straight", "through_nginx"])
def test_a_client_that_leaves_a_silent_stream_frees_upstream_well_within_one_keep_alive(
    agents_double, alice, ada, tmp_path, through_nginx
):
    """Upstream is silent after its first delta and the keep-alive is 10 s away: the relay notices the client's
    connection end itself, closes upstream and logs the client gone, without waiting for a write to fail."""
    if through_nginx and NGINX is None:
        pytest.skip("no nginx on this machine")
    agents_double.switch(stream_step=True)
    with wisdom_server(
        tmp_path, workers=1, double=agents_double, PERSONAL_STREAM_KEEPALIVE_SECONDS=str(SILENT_KEEPALIVE_SECONDS)
    ) as server:
        front = nginx_proxy(tmp_path, [server.url.removeprefix("http://")]) if through_nginx else None
        with front if front is not None else contextlib.nullcontext(server) as entry:
            stream = _open(entry, alice, "left early")
            assert stream.next_event() == ("delta", {"text": "You "})
            stream.hang_up()
            left = time.monotonic()
            outcome = _wait_for(lambda: agents_double.streams()[-1]["outcome"], seconds=3 * SILENT_KEEPALIVE_SECONDS)
            freed_after = time.monotonic() - left

    print(f"\nupstream freed {freed_after:.2f} s after the client left")
    assert outcome == "client_gone"
    assert freed_after < SILENT_KEEPALIVE_SECONDS / 2
