"""Concurrency of the personal routes across real gunicorn processes: the quota lock and the released connections."""

import threading
import time

import pytest
import requests

from tests.helpers.auth import on_behalf_of
from tests.helpers.constants import PASSWORD
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


def test_a_users_second_create_while_the_first_is_in_flight_is_refused_at_once_and_others_go_on(
    four_workers, agents_double, make_live_user
):
    racer = make_live_user(email="racer@example.com")
    other = make_live_user(email="other@example.com")
    agents_double.switch(latency_ms=1500, latency_match="^POST /entities$")

    calls = [_create(four_workers.url, racer, f"racer-{i}") for i in range(16)]
    calls.append(_create(four_workers.url, other, "others"))
    results = _together(calls)

    racer_results, (other_response, other_seconds) = results[:-1], results[-1]
    assert sorted(r.status_code for r, _ in racer_results) == [201] + [429] * 15
    refused_seconds = [seconds for r, seconds in racer_results if r.status_code == 429]
    assert max(refused_seconds) < 1.5  # at once: not queued behind the 1.5 s create in flight
    assert other_response.status_code == 201 and other_seconds < 1.5 + 1.0  # its own create, nobody's queue
    assert sorted(e["name"] for e in agents_double.entities()) == sorted(
        ["others", next(f"racer-{i}" for i, (r, _) in enumerate(racer_results) if r.status_code == 201)]
    )


def test_creates_hanging_upstream_leave_other_users_login_me_and_readyz_unaffected(
    tmp_path, agents_double, make_live_user
):
    creators = [make_live_user(email=f"creator-{i}@example.com") for i in range(20)]
    bystander = make_live_user(email="bystander@example.com")
    with wisdom_server(
        tmp_path, workers=2, threads=32, double=agents_double, DATABASE_POOL_TIMEOUT_SECONDS="3"
    ) as server:
        agents_double.switch(fault="hang", fault_match="^POST /entities$")
        creates = [
            threading.Thread(target=_create(server.url, creator, f"hung-{i}")) for i, creator in enumerate(creators)
        ]
        for thread in creates:
            thread.start()
        deadline = time.monotonic() + 15
        while agents_double.stats()["in_flight"] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        hanging = agents_double.stats()["in_flight"]

        answers = {}
        for name, call in {
            "login": lambda: requests.post(
                f"{server.url}/auth/login", json={"email": bystander.email, "password": PASSWORD}, timeout=30
            ),
            "me": lambda: requests.get(f"{server.url}/auth/me", headers=on_behalf_of(bystander), timeout=30),
            "readyz": lambda: requests.get(f"{server.url}/readyz", timeout=30),
            "second_create": _create(server.url, creators[0], "another"),
        }.items():
            started = time.monotonic()
            response = call()
            answers[name] = (response.status_code, time.monotonic() - started)

        agents_double.clear_switches()  # ends the hanging creates
        for thread in creates:
            thread.join(timeout=30)

    assert hanging == 20  # every create was waiting upstream at once
    assert {name: status for name, (status, _) in answers.items()} == {
        "login": 200,
        "me": 200,
        "readyz": 200,
        "second_create": 429,
    }
    assert max(seconds for _, seconds in answers.values()) < 1.5, answers


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
