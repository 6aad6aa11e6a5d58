"""Concurrency of the personal routes across real gunicorn processes: the quota lock and the released connections."""

import threading
import time

import pytest
import requests

from tests.helpers.auth import on_behalf_of
from tests.helpers.live import wisdom_server

pytestmark = [pytest.mark.live, pytest.mark.race, pytest.mark.django_db(transaction=True)]


def _together(calls: list) -> list:
    """Runs every call at the same instant (a barrier), answers in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        started = time.monotonic()
        response = call()
        results[i] = (response, time.monotonic() - started)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _create(url: str, user, name: str):
    return lambda: requests.post(
        f"{url}/personal/entities", json={"name": name}, headers=on_behalf_of(user), timeout=30
    )


@pytest.fixture
def four_workers(tmp_path, agents_double):
    with wisdom_server(
        tmp_path,
        workers=4,
        threads=8,
        double=agents_double,
        DATABASE_POOL_MAX_SIZE="12",
    ) as server:
        yield server


def test_twenty_simultaneous_creates_by_one_free_user_make_exactly_one_entity(
    four_workers, agents_double, make_live_user
):
    user = make_live_user(email="racer@example.com")
    agents_double.switch(latency_ms=30)  # widens the window between count and create

    results = _together([_create(four_workers.url, user, f"racer-{i}") for i in range(20)])

    statuses = sorted(response.status_code for response, _ in results)
    assert statuses == [201] + [429] * 19
    refused = next(response for response, _ in results if response.status_code == 429)
    assert refused.json()["code"] == "entity_quota_exceeded"
    assert [e["owner_user_id"] for e in agents_double.entities()] == [str(user.pk)]
    creates = [c for c in agents_double.received() if c["method"] == "POST"]
    assert len(creates) == 1
    assert four_workers.log().count("Booting worker") >= 4


@pytest.mark.postgres_only  # SQLite has no row locks: its write lock serialises every user's create
def test_another_users_create_is_not_held_up_by_a_queue_of_creates(four_workers, agents_double, make_live_user):
    racer = make_live_user(email="racer@example.com")
    other = make_live_user(email="other@example.com")
    agents_double.switch(latency_ms=150)  # the racer's 16 creates queue for >= 16 x 150 ms

    calls = [_create(four_workers.url, racer, f"racer-{i}") for i in range(16)]
    calls.append(_create(four_workers.url, other, "others"))
    results = _together(calls)

    other_response, other_seconds = results[-1]
    racer_seconds = max(seconds for _, seconds in results[:-1])
    assert other_response.status_code == 201
    assert sorted(r.status_code for r, _ in results[:-1]) == [201] + [429] * 15
    assert racer_seconds > 16 * 0.15  # the racer's creates really were serialised
    assert other_seconds < 1.5  # count + create (2 x 150 ms), not the racer's queue


def test_auth_me_answers_at_once_while_slow_chats_wait_upstream(tmp_path, agents_double, make_live_user):
    user = make_live_user(email="chatter@example.com")
    chat_seconds = 3.0
    with wisdom_server(
        tmp_path,
        workers=1,
        threads=16,
        double=agents_double,
        DATABASE_POOL_MAX_SIZE="2",
        DATABASE_POOL_TIMEOUT_SECONDS="10",
    ) as server:
        headers = on_behalf_of(user)
        created = requests.post(f"{server.url}/personal/entities", json={"name": "slow"}, headers=headers, timeout=10)
        assert created.status_code == 201
        agents_double.switch(latency_ms=int(chat_seconds * 1000), latency_match="chat$")

        chats = []
        for i in range(10):
            thread = threading.Thread(
                target=lambda i=i: chats.append(
                    requests.post(
                        f"{server.url}/personal/entities/slow/messages",
                        json={"content": f"m{i}"},
                        headers=headers,
                        timeout=30,
                    )
                )
            )
            thread.start()
            chats.append(thread)
        deadline = time.monotonic() + 5
        while agents_double.stats()["in_flight"] < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        in_flight = agents_double.stats()["in_flight"]

        started = time.monotonic()
        me = requests.get(f"{server.url}/auth/me", headers=headers, timeout=30)
        me_seconds = time.monotonic() - started

        for thread in [c for c in chats if isinstance(c, threading.Thread)]:
            thread.join(timeout=30)

    assert in_flight == 10  # every chat was waiting upstream, each on a thread of its own
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)
    assert me_seconds < chat_seconds / 3  # at once: not after a chat handed back a connection
    replies = [c for c in chats if isinstance(c, requests.Response)]
    assert sorted(r.status_code for r in replies) == [201] * 10
