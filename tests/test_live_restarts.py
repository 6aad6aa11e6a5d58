"""Restarts that drop nothing: SIGTERM drains a replica (readiness first), a rolling restart behind nginx and a
SIGHUP reload answer every request, chats included; a replica killed outright loses only what it held."""

import subprocess
import sys
import threading
import time
import uuid

import pytest
import requests

from tests.helpers.auth import on_behalf_of
from tests.helpers.live import BASE_ENV
from tests.helpers.nginx import nginx_proxy, requires_nginx
from tests.helpers.processes import ROOT
from tests.helpers.replicas import Replica, SteadyLoad

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CHAT_SECONDS = 5
REDIS_DB = 3  # this suite's own database number on the shared Redis; keys also carry a run-unique prefix


def _chat(url: str, user, i: int) -> requests.Response:
    return requests.post(
        f"{url}/personal/entities/sage/messages", json={"content": f"m{i}"}, headers=on_behalf_of(user), timeout=60
    )


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.05)


def _served_by(proxy, replica, *, after: int):
    """A predicate: nginx has logged, past its first `after` lines, a request `replica` answered at first try."""

    def served() -> bool:
        return any(
            line["upstream"] == replica.address and line["status"] == 200 for line in proxy.access_lines()[after:]
        )

    return served


@pytest.fixture
def chatter(make_live_user, agents_double):
    user = make_live_user(email="chatter@example.com")
    agents_double.seed_entity(name="sage", owner_id=str(user.pk))
    return user


def test_graceful_timeout_below_the_chat_timeout_plus_a_margin_stops_gunicorn_before_it_binds():
    env = {**BASE_ENV, "WISDOM_EMBEDDED_STORES": "true", "GUNICORN_GRACEFUL_TIMEOUT": "30", "PATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "wisdom.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert "GUNICORN_GRACEFUL_TIMEOUT (30) must be at least the chat time-out" in result.stderr


def test_on_sigterm_readyz_turns_503_new_connections_are_refused_and_the_chat_in_flight_is_answered(
    tmp_path, agents_double, chatter
):
    agents_double.switch(latency_ms=3000, latency_match="chat$")
    replica = Replica(tmp_path, name="a", workers=1, threads=8, double=agents_double).start()
    try:
        chat: list[requests.Response] = []
        sender = threading.Thread(target=lambda: chat.append(_chat(replica.url, chatter, 0)))
        sender.start()
        _wait_until(lambda: agents_double.stats()["in_flight"] == 1, 10, "the chat reached the double")
        with requests.Session() as kept_alive:
            assert kept_alive.get(f"{replica.url}/readyz", timeout=5).status_code == 200
            replica.process.send_signal(15)
            time.sleep(0.3)
            ready = kept_alive.get(f"{replica.url}/readyz", timeout=5)  # the connection it already had
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{replica.url}/healthz", timeout=5)
        sender.join(timeout=30)
        exit_status = replica.process.wait(timeout=30)
    finally:
        replica.stop()

    assert ready.status_code == 503
    assert ready.json() == {"status": "stopping", "checks": {}}
    assert ready.headers["Connection"] == "close"
    assert chat[0].status_code == 201 and chat[0].json()["reply"]
    assert exit_status == 0


def test_sighup_reloads_every_worker_while_requests_and_chats_go_on_with_none_failed(tmp_path, agents_double, chatter):
    agents_double.switch(latency_ms=2000, latency_match="chat$")
    replica = Replica(tmp_path, name="hup", workers=2, threads=16, double=agents_double).start()
    try:
        old_workers = {worker.pid for worker in replica.workers()}
        chats: list[requests.Response] = []
        senders = [threading.Thread(target=lambda i=i: chats.append(_chat(replica.url, chatter, i))) for i in range(10)]
        with SteadyLoad(
            lambda: requests.get(f"{replica.url}/auth/me", headers=on_behalf_of(chatter), timeout=30)
        ) as load:
            for sender in senders:
                sender.start()
            _wait_until(lambda: agents_double.stats()["in_flight"] == 10, 10, "every chat reached the double")
            replica.reload()
            _wait_until(
                lambda: (
                    len({w.pid for w in replica.workers()} - old_workers) == 2
                    and not old_workers & {w.pid for w in replica.workers()}
                ),
                30,
                "two new workers and no old one",
            )
            time.sleep(1)  # traffic on the new workers
        for sender in senders:
            sender.join(timeout=30)
    finally:
        replica.stop()

    print(f"\nSIGHUP: {len(load.statuses)} requests, failed {load.failures()}")
    assert load.failures() == []
    assert len(load.statuses) > 20
    assert sorted(chat.status_code for chat in chats) == [201] * 10


@requires_nginx
def test_a_rolling_restart_behind_nginx_answers_every_request_and_every_chat(tmp_path, agents_double, chatter):
    agents_double.switch(latency_ms=CHAT_SECONDS * 1000, latency_match="chat$")
    replicas = [
        Replica(tmp_path, name=name, workers=1, threads=32, double=agents_double, NUM_PROXIES="1") for name in "ab"
    ]
    try:
        for replica in replicas:
            replica.start()
        with nginx_proxy(tmp_path, [replica.address for replica in replicas]) as proxy:
            chats: list[requests.Response | str] = []

            def chat(i: int) -> None:
                try:
                    chats.append(_chat(proxy.url, chatter, i))
                except requests.RequestException as e:
                    chats.append(type(e).__name__)

            senders = [threading.Thread(target=chat, args=(i,)) for i in range(50)]
            in_flight_at_sigterm = []
            with SteadyLoad(
                lambda: requests.get(f"{proxy.url}/personal/entities", headers=on_behalf_of(chatter), timeout=30)
            ) as load:
                for i, sender in enumerate(senders):  # 50 chats of 5 s, started over 12.5 s
                    sender.start()
                    if i == 10:
                        break
                    time.sleep(0.25)

                def start_the_rest():
                    for sender in senders[11:]:
                        sender.start()
                        time.sleep(0.25)

                rest = threading.Thread(target=start_the_rest)
                rest.start()
                for replica in replicas:
                    in_flight_at_sigterm.append(agents_double.stats()["in_flight"])
                    replica.restart()  # SIGTERM, wait for it to drain and exit, start it, wait for /readyz
                    # then, as a deploy behind nginx must, wait for nginx to send it traffic again (after the
                    # fail_timeout that its refused connections started) before stopping the next one
                    ready_at = len(proxy.access_lines())
                    _wait_until(_served_by(proxy, replica, after=ready_at), 20, f"replica {replica.name} serves")
                rest.join(timeout=30)
                for sender in senders:
                    sender.join(timeout=60)
    finally:
        for replica in replicas:
            replica.stop()

    print(
        f"\nrolling restart: {len(load.statuses)} GETs, failed {load.failures()}; "
        f"chats in flight at each SIGTERM {in_flight_at_sigterm}"
    )
    assert load.failures() == []
    assert len(load.statuses) > 50
    assert min(in_flight_at_sigterm) > 0  # chats were waiting upstream at each SIGTERM
    assert [c if isinstance(c, str) else c.status_code for c in chats] == [201] * 50
    assert all("Handling signal: term" in replica.log() for replica in replicas)


STOPPING = {"detail": "The server is restarting; send the message again.", "status": 503}


def _counted_messages(client, prefix: str, user) -> int:
    """The user's messages counted in the shared cache's minute window (Django's keys: prefix:version:key)."""
    keys = client.keys(f"{prefix}:1:personal:messages:{user.pk}:minute:*")
    return sum(int(client.get(key)) for key in keys)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP"])
def test_a_stop_ends_every_open_stream_with_a_final_event_and_gives_back_the_message_it_cut(
    tmp_path, agents_double, chatter, signal_name
):
    """The drain (graceful_timeout 15 s) lets a stream that finishes in time end with `done`, and ends one that
    would not with an `error` 503 at its deadline (graceful_timeout - 5 s), whose message no longer counts."""
    import signal as signals

    import redis

    from tests.helpers.auth import bearer
    from tests.helpers.sse import EventStreamClient

    prefix = f"wisdom-drain-{uuid.uuid4().hex[:8]}"
    agents_double.switch(stream_delta_ms=1000)
    replica = Replica(
        tmp_path,
        name="drain",
        workers=1,
        double=agents_double,
        INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS="5",
        GUNICORN_GRACEFUL_TIMEOUT="15",
        CACHE_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        CACHE_KEY_PREFIX=prefix,
        PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE="50",
    ).start()
    cache = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    try:
        path = "/personal/entities/sage/messages"
        short = EventStreamClient(replica.url, path, headers=bearer(chatter), body={"content": "two words"}, timeout=60)
        long = EventStreamClient(replica.url, path, headers=bearer(chatter), body={"content": "w " * 40}, timeout=60)
        assert short.next_event()[0] == long.next_event()[0] == "delta"
        assert _counted_messages(cache, prefix, chatter) == 2
        replica.process.send_signal(getattr(signals, signal_name))
        signalled = time.monotonic()
        short_events, long_events = short.events(), long.events()
        long_ended_after = time.monotonic() - signalled
        if signal_name == "SIGTERM":
            assert replica.process.wait(timeout=30) == 0
        counted = _counted_messages(cache, prefix, chatter)
    finally:
        replica.stop()
        for key in cache.scan_iter(f"{prefix}:*"):
            cache.delete(key)

    assert short_events[-1][0] == "done"
    assert [name for name, _ in long_events[:-1]] == ["delta"] * (len(long_events) - 1)
    assert long_events[-1] == ("error", STOPPING)
    assert 8 < long_ended_after < 14  # at the drain deadline: 15 s - 5 s, never cut by the worker's own end
    assert counted == 1  # the cut one was given back
