"""Slow clients (slowloris): 300 connections each sending a byte every 5 s. Behind nginx a replica never sees
them, and /healthz and a proxied GET stay fast; straight at gunicorn each costs a greenlet (and is dropped when its
headers take longer than the keep-alive), so /healthz and /auth/me are still answered, only slower.

Both with one gevent worker; each run lasts 30 s.
"""

import socket
import statistics
import threading
import time

import pytest
import requests

from tests.helpers.auth import on_behalf_of
from tests.helpers.nginx import nginx_proxy, requires_nginx
from tests.helpers.replicas import Replica

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SLOW_CONNECTIONS = 300
BYTE_EVERY_SECONDS = 5
RUN_SECONDS = 30
PROBE_EVERY_SECONDS = 0.1
PROBE_TIMEOUT_SECONDS = 5


class Slowloris:
    """Keeps SLOW_CONNECTIONS connections open, each sending an unfinished request a byte at a time; a connection
    the server closes is opened again, so the pressure stays for the whole run."""

    def __init__(self, host: str, port: int):
        self.address = (host, port)
        self.sockets: list[socket.socket | None] = [None] * SLOW_CONNECTIONS
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket | None:
        try:
            s = socket.create_connection(self.address, timeout=2)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            return s
        except OSError:
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            for i, s in enumerate(self.sockets):
                try:
                    if s is None:
                        raise OSError
                    s.send(b"a")
                except OSError:
                    if s is not None:
                        s.close()
                        self.reopened += 1
                    self.sockets[i] = self._open()
            self._stop.wait(BYTE_EVERY_SECONDS)

    def __enter__(self) -> "Slowloris":
        self.sockets = [self._open() for _ in range(SLOW_CONNECTIONS)]
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for s in self.sockets:
            if s is not None:
                s.close()

    def open_count(self) -> int:
        return sum(s is not None for s in self.sockets)


def _probe(urls: dict[str, tuple[str, dict]], seconds: float) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Each url in turn every PROBE_EVERY_SECONDS for `seconds`: latencies (a failure counts as the whole time-out)
    and failures, by name."""
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    failures: dict[str, int] = dict.fromkeys(urls, 0)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, (url, headers) in urls.items():
            started = time.monotonic()
            try:
                ok = requests.get(url, headers=headers, timeout=PROBE_TIMEOUT_SECONDS).status_code == 200
            except requests.RequestException:
                ok = False
            latencies[name].append(time.monotonic() - started if ok else float(PROBE_TIMEOUT_SECONDS))
            failures[name] += not ok
        time.sleep(PROBE_EVERY_SECONDS)
    return latencies, failures


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


@pytest.fixture
def replica(tmp_path, make_live_user):
    user = make_live_user(email="prober@example.com")
    replica = Replica(tmp_path, name="slow", workers=1, threads=32, NUM_PROXIES="1").start()
    try:
        yield replica, on_behalf_of(user)
    finally:
        replica.stop()


@requires_nginx
def test_behind_nginx_300_slow_clients_leave_healthz_and_a_proxied_get_under_100_ms_at_p99(tmp_path, replica):
    server, headers = replica
    with nginx_proxy(tmp_path, [server.address]) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with Slowloris(host, int(port)) as slow:
            opened = slow.open_count()
            latencies, failures = _probe(
                {"healthz": (f"{proxy.url}/healthz", {}), "auth/me": (f"{proxy.url}/auth/me", headers)}, RUN_SECONDS
            )
            reopened = slow.reopened

    p99s = {name: round(_p99(values) * 1000, 1) for name, values in latencies.items()}
    print(f"\nbehind nginx: p99 ms {p99s}, probes {[len(v) for v in latencies.values()]}, reopened {reopened}")
    assert opened == SLOW_CONNECTIONS
    assert failures == {"healthz": 0, "auth/me": 0}
    assert all(len(values) >= 100 for values in latencies.values())
    assert max(p99s.values()) < 100, p99s
    assert "X-Slow" not in server.log()  # no slow request ever reached the replica


def test_straight_at_gunicorn_300_slow_clients_leave_healthz_and_auth_me_answered(replica):
    server, headers = replica
    with Slowloris("127.0.0.1", server.port) as slow:
        opened = slow.open_count()
        latencies, failures = _probe(
            {"healthz": (f"{server.url}/healthz", {}), "auth/me": (f"{server.url}/auth/me", headers)}, RUN_SECONDS
        )

    p99s = {name: round(_p99(values) * 1000, 1) for name, values in latencies.items()}
    print(f"\nstraight at gunicorn: p99 ms {p99s}, failures {failures}, probes {[len(v) for v in latencies.values()]}")
    assert opened == SLOW_CONNECTIONS
    # A thread per connection would be held by each header that never ends; a greenlet per connection is not.
    assert failures == {"healthz": 0, "auth/me": 0}
    assert max(p99s.values()) < 1000, p99s
