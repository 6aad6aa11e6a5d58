"""Many open streams on one replica (the committed gunicorn.conf.py, production-sized): every other route is still
answered, and password hashing (Argon2, ~0.1 s of C per login) never stalls the streams the worker relays.

Margins are generous: the figures (3,000 streams, first-delta percentiles, memory) are in `make bench`.
"""

import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers.auth import bearer
from tests.helpers.constants import PASSWORD
from tests.helpers.live import wisdom_server
from tests.helpers.sse import EventStreamClient

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

STREAMS = 300
PROBE_SECONDS = 10
PROBE_TIMEOUT_SECONDS = 5


def _wait_for(predicate, seconds: float):
    """A generous bound on a wait, never a timed assertion."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def _open_raw_stream(url: str, headers: dict) -> socket.socket:
    """A streamed chat asked for and left unread, as a slow reader's would be: it stays open upstream."""
    parts = urlsplit(url)
    body = b'{"content": "hold on"}'
    lines = [
        "POST /personal/entities/ada/messages HTTP/1.1",
        f"Host: {parts.hostname}:{parts.port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
    return sock


def _probe(server_url: str, headers: dict) -> tuple[dict[str, list[float]], dict[str, int]]:
    urls = {"healthz": ("/healthz", {}), "readyz": ("/readyz", {}), "auth/me": ("/auth/me", headers)}
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    failures = dict.fromkeys(urls, 0)
    ends = time.monotonic() + PROBE_SECONDS
    while time.monotonic() < ends:
        for name, (path, probe_headers) in urls.items():
            started = time.monotonic()
            try:
                ok = requests.get(server_url + path, headers=probe_headers, timeout=PROBE_TIMEOUT_SECONDS).ok
            except requests.RequestException:
                ok = False
            latencies[name].append(time.monotonic() - started if ok else PROBE_TIMEOUT_SECONDS)
            failures[name] += not ok
        time.sleep(0.1)
    return latencies, failures


def _workers_rss(server) -> int:
    import psutil

    return sum(worker.memory_info().rss for worker in psutil.Process(server.process.pid).children())


def _open_streams(agents_double) -> int:
    return sum(1 for stream in agents_double.streams() if stream["outcome"] is None)


def test_healthz_readyz_and_auth_me_stay_answered_with_300_streams_open(tmp_path, agents_double, make_live_user):
    streamer = make_live_user(email="many.streams@example.com", plan="enterprise")
    bystander = make_live_user(email="bystander@example.com")
    agents_double.seed_entity(name="ada", owner_id=str(streamer.pk))
    agents_double.switch(stream_delta_ms=60_000)  # each stream holds after its first delta
    with wisdom_server(tmp_path, workers=2, threads=150, double=agents_double) as server:
        headers = bearer(streamer)
        requests.get(f"{server.url}/auth/me", headers=headers, timeout=30)  # a warm worker: the baseline
        idle = _workers_rss(server)
        sockets = [_open_raw_stream(server.url, headers) for _ in range(STREAMS)]
        try:
            held = _wait_for(lambda: _open_streams(agents_double) >= STREAMS, 60) and _open_streams(agents_double)
            per_stream_kib = (_workers_rss(server) - idle) / STREAMS / 1024
            latencies, failures = _probe(server.url, bearer(bystander))
            still_open = _open_streams(agents_double)
        finally:
            for sock in sockets:
                sock.close()

    p99s = {name: round(statistics.quantiles(v, n=100, method="inclusive")[98] * 1000) for name, v in latencies.items()}
    print(f"\n{STREAMS} streams open: probe p99 ms {p99s}, failures {failures}; ~{per_stream_kib:.0f} KiB each")
    assert held == STREAMS and still_open == STREAMS
    assert failures == {"healthz": 0, "readyz": 0, "auth/me": 0}
    assert max(p99s.values()) < 1000, p99s


def _one_argon2_verify_seconds(encoded: str) -> float:
    """What one login's hash costs on this machine now (it is shared: the figure moves with its load)."""
    from django.contrib.auth.hashers import check_password

    started = time.perf_counter()
    assert check_password(PASSWORD, encoded)
    return time.perf_counter() - started


def test_logins_meanwhile_never_stall_an_open_stream(tmp_path, agents_double, make_live_user):
    """One worker relays a delta every 50 ms while 16 logins hash their passwords. Hashed on the worker's loop,
    the stream would stand still for every hash, 16 in all; on threads it goes on: the time it stood still is a
    fraction of that, whatever the machine's load (one hash is timed here beside the run)."""
    user = make_live_user(email="streaming.user@example.com")
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.switch(stream_delta_ms=50)
    content = " ".join(["word"] * 120)  # about 6 s of deltas
    with wisdom_server(tmp_path, workers=1, double=agents_double) as server:
        stream = EventStreamClient(
            server.url, "/personal/entities/ada/messages", headers=bearer(user), body={"content": content}
        )
        try:
            assert stream.next_event()[0] == "delta"
            gaps, statuses, arrived = [], [], time.monotonic()

            def log_in() -> None:
                response = requests.post(
                    f"{server.url}/auth/login", json={"email": user.email, "password": PASSWORD}, timeout=120
                )
                statuses.append(response.status_code)

            logins = [threading.Thread(target=log_in) for _ in range(16)]
            for login in logins:
                login.start()
            while (event := stream.next_event()) is not None and event[0] == "delta":
                now = time.monotonic()
                gaps.append(now - arrived)
                arrived = now
            one_hash = _one_argon2_verify_seconds(user.password)
            for login in logins:
                login.join(timeout=120)
        finally:
            stream.close()

    stood_still = sum(max(gap - 0.1, 0) for gap in gaps)  # beyond twice the pace: the machine's own jitter aside
    print(f"\nstream stood still {stood_still:.2f} s in all while 16 logins ran; one hash now {one_hash:.2f} s")
    assert event is not None and event[0] == "done"
    assert statuses == [200] * 16
    assert stood_still < 8 * one_hash  # on the loop: about 16 hashes' worth
