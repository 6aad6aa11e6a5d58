"""The agents service misbehaving under a live wisdom: gunicorn in front of the double, both real processes.

Each fault must be answered with its documented 502 or 504 within its time-out plus one second, never a
500, without the upstream's body, and wisdom must work again once the fault is gone, with no restart.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psutil
import pytest
import requests

from personal.errors import (
    AgentsCredentialsRejected,
    AgentsFailed,
    AgentsRefused,
    AgentsTimeout,
    AgentsUnreachable,
)
from tests.helpers.auth import bearer
from tests.helpers.double import running_double
from tests.helpers.live import wisdom_server

pytestmark = [pytest.mark.live, pytest.mark.faults, pytest.mark.django_db(transaction=True)]

READ_TIMEOUT = 2.0
CHAT_TIMEOUT = 3.0
CONNECT_TIMEOUT = 1.0
SLACK = 1.0  # the bound: a fault is answered within its time-out plus one second

# Its own key, so "never in the response or the log" cannot pass by accident on a common string.
AGENTS_KEY = "faults-agents-key-3b7e91d4"
SECRET = "postgres://agents:s3cr3t-Hunter2@db.agents.internal:5432/agents"  # kept by the log's redaction
PASSWORD = "hunter2-0xDEADBEEF"  # a key=value secret, which the log redacts as well
SECRET_TAIL = "END-OF-THE-UPSTREAM-BODY"  # beyond what wisdom logs of a failed body (500 characters)
SECRET_BODY = (
    '{"detail": "Traceback (most recent call last): connect('
    + SECRET
    + ") failed; password="
    + PASSWORD
    + " "
    + "x" * 600
    + SECRET_TAIL
    + '"}'
)


@dataclass(frozen=True)
class Route:
    id: str
    method: str
    path: str
    ok_status: int
    upstream: str  # the regex the double matches for this route's own upstream call
    timeout: float
    body: dict | None = None

    def __str__(self) -> str:
        return self.id


ROUTES = [
    Route("list", "GET", "/personal/entities", 200, "^GET /entities$", READ_TIMEOUT),
    Route("get", "GET", "/personal/entities/ada", 200, "^GET /entities/ada$", READ_TIMEOUT),
    Route("create", "POST", "/personal/entities", 201, "^POST /entities$", READ_TIMEOUT, {"name": "bea"}),
    Route(
        "message",
        "POST",
        "/personal/entities/ada/messages",
        201,
        "^POST /entities/ada/chat$",
        CHAT_TIMEOUT,
        {"content": "hi"},
    ),
    Route("delete", "DELETE", "/personal/entities/ada", 204, "^DELETE /entities/ada$", READ_TIMEOUT),
]
ROUTES_BY_ID = {route.id: route for route in ROUTES}


@dataclass(frozen=True)
class Fault:
    id: str
    switches: dict
    status: int
    detail: str
    leaks: tuple[str, ...] = field(default=())  # what upstream sent that must never reach the client

    def __str__(self) -> str:
        return self.id


FAULTS = [
    Fault("reset_mid_body", {"fault": "reset_mid_body"}, 502, AgentsFailed.default_detail, ('"half',)),
    Fault("hang", {"fault": "hang"}, 504, AgentsTimeout.default_detail),
    Fault(
        "500_with_a_secret",
        {"fault": "canned", "fault_status": 500, "fault_body": SECRET_BODY},
        502,
        AgentsFailed.default_detail,
        (SECRET, PASSWORD, "Traceback", SECRET_TAIL),
    ),
    Fault("non_json_200", {"fault": "non_json"}, 502, AgentsFailed.default_detail, ("nginx", "<html>")),
    Fault("401", {"fault": "unauthorized"}, 502, AgentsCredentialsRejected.default_detail, ("Invalid API key",)),
    Fault("reset_before_answering", {"fault": "down"}, 502, AgentsUnreachable.default_detail),
]
# A delete expects no body, so any 2xx, HTML included, is a success to it: no non-JSON case for it.
CASES = [(f, r) for f in FAULTS for r in ROUTES if not (f.id == "non_json_200" and r.id == "delete")]


@pytest.fixture(scope="module")
def double(tmp_path_factory):
    """This module's own double: the tests stop and restart it, which the session's double must never see."""
    with running_double(api_key=AGENTS_KEY, log_path=tmp_path_factory.mktemp("faults") / "double.log") as double:
        yield double


@pytest.fixture(scope="module")
def wisdom(django_db_setup, django_db_blocker, tmp_path_factory, double):
    # One worker: every call shares one upstream pool, so a restarted upstream surely leaves stale connections.
    with (
        django_db_blocker.unblock(),
        wisdom_server(
            tmp_path_factory.mktemp("faults-wisdom"),
            workers=1,
            threads=8,
            double=double,
            INTUNO_AGENTS_TIMEOUT_SECONDS=str(READ_TIMEOUT),
            INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS=str(CHAT_TIMEOUT),
            INTUNO_AGENTS_CONNECT_TIMEOUT_SECONDS=str(CONNECT_TIMEOUT),
            LOG_FORMAT="json",
        ) as server,
    ):
        yield server


@pytest.fixture
def alice(make_live_user, wisdom, double):
    """A pro user (room for a second entity) who owns "ada" upstream; wisdom's upstream pool is warm."""
    user = make_live_user(email="alice.faults@example.com", plan="pro")
    double.reset()
    _seed_ada(double, user)
    assert _call(wisdom, ROUTES_BY_ID["list"], user).status_code == 200
    double.clear_received()
    return user


def _seed_ada(double, user) -> None:
    """Straight to the double, on a connection of its own, so wisdom's pool is left as it was."""
    assert double.seed_entity(name="ada", owner_id=str(user.pk)).status_code == 201


def _call(wisdom, route: Route, user, headers: dict | None = None) -> requests.Response:
    headers = headers or bearer(user)
    return requests.request(route.method, wisdom.url + route.path, json=route.body, headers=headers, timeout=30)


def _timed(wisdom, route: Route, user) -> tuple[requests.Response, float]:
    headers = bearer(user)  # outside the clock: making a token writes to the database
    started = time.perf_counter()
    response = _call(wisdom, route, user, headers)
    return response, time.perf_counter() - started


def _held(double) -> list[tuple[str, str]]:
    return sorted((e["name"], e["owner_user_id"]) for e in double.entities())


def _assert_nothing_leaked(response: requests.Response, leaks: tuple[str, ...]) -> None:
    exposed = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for leak in (*leaks, AGENTS_KEY):
        assert leak not in exposed


@pytest.mark.parametrize(("fault", "route"), CASES, ids=[f"{f}-{r}" for f, r in CASES])
def test_a_misbehaving_upstream_gets_its_documented_answer_in_time_and_wisdom_recovers(
    wisdom, double, alice, fault: Fault, route: Route
):
    double.switch(**fault.switches, fault_match=route.upstream)
    try:
        response, elapsed = _timed(wisdom, route, alice)
        held_during_the_fault = _held(double)
    finally:
        double.clear_switches()  # also ends a hanging upstream call

    assert (response.status_code, response.json()) == (fault.status, {"detail": fault.detail})
    assert elapsed <= route.timeout + SLACK, f"{elapsed:.2f}s"
    if fault.id == "hang":  # the route's own time-out applied: a chat waits longer than the rest
        assert elapsed >= route.timeout - 0.05, f"{elapsed:.2f}s"
    _assert_nothing_leaked(response, fault.leaks)
    assert held_during_the_fault == [("ada", str(alice.pk))]  # nothing created or deleted upstream

    recovered = _call(wisdom, route, alice)
    assert recovered.status_code == route.ok_status, recovered.text
    assert wisdom.process.poll() is None  # the same gunicorn, never restarted


def test_a_500_body_reaches_only_the_server_log_and_only_truncated(wisdom, double, alice):
    double.switch(fault="canned", fault_status=500, fault_body=SECRET_BODY)
    try:
        response = _call(wisdom, ROUTES_BY_ID["list"], alice)
    finally:
        double.clear_switches()

    assert (response.status_code, response.json()) == (502, {"detail": AgentsFailed.default_detail})
    _assert_nothing_leaked(response, (SECRET, PASSWORD, SECRET_TAIL))
    log = wisdom.log()
    assert SECRET in log  # an operator can see what upstream said,
    assert SECRET_TAIL not in log  # but only its first 500 characters,
    assert PASSWORD not in log and "password=[redacted]" in log  # and never a key=value secret


@pytest.mark.parametrize(
    ("status", "expected_status", "expected_detail"),
    [(200, 502, AgentsFailed.default_detail), (404, 404, AgentsRefused.DETAILS[404])],
)
def test_an_upstream_body_nested_too_deeply_is_not_a_500(
    wisdom, double, alice, status, expected_status, expected_detail
):
    # json recurses once per level: such a body was a RecursionError, and a 500, before the client caught it.
    double.switch(fault="canned", fault_status=status, fault_body="[" * 100_000 + "]" * 100_000)
    try:
        responses = [_call(wisdom, ROUTES_BY_ID[route], alice) for route in ("get", "message")]
    finally:
        double.clear_switches()

    assert [(r.status_code, r.json()) for r in responses] == [(expected_status, {"detail": expected_detail})] * 2
    assert _call(wisdom, ROUTES_BY_ID["get"], alice).status_code == 200


def test_a_429_from_upstream_passes_through_with_its_detail_and_retry_after(wisdom, double, alice):
    double.switch(
        fault="canned", fault_status=429, fault_body='{"detail": "Slow down."}', fault_headers={"Retry-After": "9"}
    )
    try:
        response = _call(wisdom, ROUTES_BY_ID["list"], alice)
    finally:
        double.clear_switches()

    assert (response.status_code, response.json()) == (429, {"detail": "Slow down.", "code": "upstream_rate_limited"})
    assert response.headers["Retry-After"] == "9"


def test_a_401_from_upstream_never_puts_the_agents_key_in_the_response_or_the_log(wisdom, double, alice):
    double.switch(fault="unauthorized")
    try:
        responses = [_call(wisdom, route, alice) for route in ROUTES]
    finally:
        double.clear_switches()

    expected = (502, {"detail": AgentsCredentialsRejected.default_detail})
    assert [(r.status_code, r.json()) for r in responses] == [expected] * len(ROUTES)
    for response in responses:
        _assert_nothing_leaked(response, ("Invalid API key",))
    log = wisdom.log()
    assert "rejected this server's credentials (401)" in log  # the operator is told what to check
    assert AGENTS_KEY not in log
    assert _held(double) == [("ada", str(alice.pk))]


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_stopped_upstream_is_502_unreachable_within_the_connect_timeout_and_recovery_needs_no_restart(
    wisdom, double, alice, route: Route
):
    double.stop()
    try:
        response, elapsed = _timed(wisdom, route, alice)
    finally:
        double.start()  # the same port, empty: the pool's connections to the old process are all dead
    _seed_ada(double, alice)

    assert (response.status_code, response.json()) == (502, {"detail": AgentsUnreachable.default_detail})
    assert elapsed <= CONNECT_TIMEOUT + SLACK, f"{elapsed:.2f}s"
    _assert_nothing_leaked(response, ())

    recovered = _call(wisdom, route, alice)
    assert recovered.status_code == route.ok_status, recovered.text
    assert wisdom.process.poll() is None


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_an_upstream_restarted_mid_run_is_answering_again_at_once_through_a_stale_pool(
    wisdom, double, alice, route: Route
):
    # Several pooled connections, all of which the restart kills; POSTs are never retried, so none may be used.
    headers = bearer(alice)  # made here: a token is a database row, and pool threads would each hold a connection
    url = wisdom.url + ROUTES_BY_ID["list"].path
    with ThreadPoolExecutor(4) as pool:
        warm = list(pool.map(lambda _: requests.get(url, headers=headers, timeout=10).status_code, range(8)))
    assert warm == [200] * 8
    double.restart()
    _seed_ada(double, alice)

    response, elapsed = _timed(wisdom, route, alice)
    after = [_call(wisdom, ROUTES_BY_ID["list"], alice).status_code for _ in range(4)]

    assert response.status_code == route.ok_status, response.text
    assert elapsed <= route.timeout + SLACK, f"{elapsed:.2f}s"
    assert after == [200] * 4
    assert wisdom.process.poll() is None
    expected = {"create": [("ada", str(alice.pk)), ("bea", str(alice.pk))], "delete": []}
    assert _held(double) == expected.get(route.id, [("ada", str(alice.pk))])


# --- bounded: a total deadline and a size cap on every upstream call (hardening items 3, 4 and 9) ---------


@pytest.mark.parametrize("route", [ROUTES_BY_ID["list"], ROUTES_BY_ID["message"]], ids=str)
def test_an_upstream_that_trickles_is_cut_off_at_the_total_deadline(wisdom, double, alice, route: Route):
    # One byte every 0.3 s never trips a per-read time-out: only a deadline on the whole call ends it.
    double.switch(fault="trickle", trickle_ms=300, fault_match=route.upstream)
    try:
        response, elapsed = _timed(wisdom, route, alice)
    finally:
        double.clear_switches()

    assert (response.status_code, response.json()) == (504, {"detail": AgentsTimeout.default_detail})
    assert route.timeout - 0.05 <= elapsed <= route.timeout + SLACK, f"{elapsed:.2f}s"
    recovered = _call(wisdom, route, alice)
    assert recovered.status_code == route.ok_status, recovered.text


def _peak_worker_rss_during(wisdom, call) -> tuple[requests.Response, int]:
    """The call's answer, and how far the workers' summed resident memory rose above where it started."""
    workers = psutil.Process(wisdom.process.pid).children()

    def rss() -> int:
        return sum(worker.memory_info().rss for worker in workers)

    start, peak, done = rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        response = call()
    finally:
        done.set()
        sampler.join()
    return response, max(peak[0], rss()) - start


@pytest.mark.parametrize(
    "switches",
    [
        {"fault": "gzip_bomb", "bomb_inflated_bytes": 256 * 1024 * 1024},  # 256 MiB of zeros in 0.25 MiB
        {"fault": "oversized", "oversize_bytes": 24 * 1024 * 1024},  # valid, only six times the cap
    ],
    ids=["compressed", "over_the_cap"],
)
def test_an_answer_too_big_to_read_is_502_and_the_workers_memory_stays_bounded(wisdom, double, alice, switches):
    double.switch(**switches, fault_match="^GET /entities$")
    try:
        response, grew = _peak_worker_rss_during(wisdom, lambda: _call(wisdom, ROUTES_BY_ID["list"], alice))
    finally:
        double.clear_switches()

    assert (response.status_code, response.json()) == (502, {"detail": AgentsFailed.default_detail})
    assert grew < 32 * 1024 * 1024, f"workers grew by {grew / 2**20:.0f} MiB"
    assert {r["headers"].get("Accept-Encoding") for r in double.received()} == {"identity"}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_numbers_that_cannot_be_rendered_are_a_502_not_a_500(wisdom, double, alice, number):
    entity = '{"name": "ada", "display_name": "", "description": "", "status": "active", '
    body = entity + f'"owner_user_id": "{alice.pk}", "created_at": "x", "updated_at": "x", "score": {number}}}'
    double.switch(fault="canned", fault_status=200, fault_body=body, fault_match="^GET /entities/ada$")
    try:
        response = _call(wisdom, ROUTES_BY_ID["get"], alice)
    finally:
        double.clear_switches()

    assert (response.status_code, response.json()) == (502, {"detail": AgentsFailed.default_detail})
