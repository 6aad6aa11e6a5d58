"""Idempotency-Key across replicas: two gunicorn masters on one PostgreSQL and one Redis, the agents double over
HTTP. A retry on the other replica is answered from the shared store, reaches upstream once and is charged
once; two sends at once with one key give one 201 and one 409; a key whose worker was killed is free again
when its lease ends."""

import threading
import time
import uuid

import pytest
import requests

from tests.helpers.auth import bearer
from tests.helpers.replicas import Replica, replica_pair

pytestmark = [pytest.mark.live, pytest.mark.race, pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

REDIS_DB = 8  # a database number of this module's own on the shared Redis; keys also carry a run-unique prefix
PREFIX = f"wisdom-idempotency-{uuid.uuid4().hex}"
MESSAGES_PER_MINUTE = 5
DOOMED_CHAT_TIMEOUT_SECONDS = 3  # its lease: this plus personal.idempotency.LEASE_MARGIN_SECONDS (10)


def _replica_env(**extra: str) -> dict:
    return {
        "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CACHE_KEY_PREFIX": PREFIX,
        "PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE": str(MESSAGES_PER_MINUTE),
        "PERSONAL_FREE_TIER_ENTITY_CAP": "2",
        "DATABASE_POOL_MAX_SIZE": "4",
        **extra,
    }


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker, tmp_path_factory, agents_double_session):
    """Replicas a and b, one worker each: two gunicorn process trees."""
    with (
        django_db_blocker.unblock(),
        replica_pair(
            tmp_path_factory.mktemp("idempotency"),
            double=agents_double_session,
            redis_db=REDIS_DB,
            key_prefix=PREFIX,
            workers=1,
            threads=8,
            **_replica_env(),
        ) as replicas,
    ):
        yield replicas


@pytest.fixture
def alice(make_live_user, agents_double):
    user = make_live_user(email=f"idem-{uuid.uuid4().hex[:8]}@example.com")
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    agents_double.clear_received()
    return user


def _send(
    replica: Replica, auth: dict, *, key: str | None, content: str = "hi", timeout: float = 30
) -> requests.Response:
    """`auth` made beforehand: a thread of the test's own would open (and keep) a database connection."""
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return requests.post(
        f"{replica.url}/personal/entities/ada/messages", json={"content": content}, headers=headers, timeout=timeout
    )


def _chats(double) -> list[dict]:
    return [c for c in double.received() if c["method"] == "POST" and c["path"] == "/entities/ada/chat"]


def _remaining(response: requests.Response) -> int:
    minute = response.headers["RateLimit"].split(",")[0]  # "minute";r=4;t=60
    return int(minute.split(";r=")[1].split(";")[0])


def test_a_retried_send_reaches_upstream_once_and_is_charged_once_across_two_replicas(pair, agents_double, alice):
    auth = bearer(alice)
    a, b = pair
    key = str(uuid.uuid4())

    first = _send(a, auth, key=key)
    retried = _send(b, auth, key=key)
    fresh = _send(b, auth, key=None)

    assert first.status_code == retried.status_code == 201, (first.text, retried.text)
    assert retried.json() == first.json()
    assert retried.headers["Idempotency-Replayed"] == "true" and "Idempotency-Replayed" not in first.headers
    assert retried.headers["RateLimit"] == first.headers["RateLimit"]
    assert _remaining(first) == MESSAGES_PER_MINUTE - 1
    assert _remaining(fresh) == MESSAGES_PER_MINUTE - 2  # the retry took no place
    assert len(_chats(agents_double)) == 2  # the first and the fresh one
    assert key not in str(agents_double.received())


def test_a_retried_create_reaches_upstream_once_across_two_replicas(pair, agents_double, alice):
    auth = bearer(alice)
    a, b = pair
    key = str(uuid.uuid4())
    body = {"name": "bea", "display_name": "Bea"}

    first = requests.post(f"{a.url}/personal/entities", json=body, headers={**auth, "Idempotency-Key": key})
    retried = requests.post(f"{b.url}/personal/entities", json=body, headers={**auth, "Idempotency-Key": key})

    assert (first.status_code, retried.status_code) == (201, 201), (first.text, retried.text)
    assert retried.json() == first.json() and retried.headers["Idempotency-Replayed"] == "true"
    creates = [c for c in agents_double.received() if (c["method"], c["path"]) == ("POST", "/entities")]
    assert len(creates) == 1
    assert sorted(e["name"] for e in agents_double.entities() if e["owner_user_id"] == str(alice.pk)) == ["ada", "bea"]


def test_two_simultaneous_sends_with_one_key_give_one_201_and_one_409(pair, agents_double, alice):
    auth = bearer(alice)
    agents_double.switch(latency_ms=1500, latency_match="chat$")
    key = str(uuid.uuid4())
    barrier = threading.Barrier(2)
    answers: dict[str, requests.Response] = {}

    def send(replica: Replica) -> None:
        barrier.wait(timeout=30)
        answers[replica.name] = _send(replica, auth, key=key)

    threads = [threading.Thread(target=send, args=(replica,)) for replica in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    agents_double.clear_switches()

    by_status = {response.status_code: response for response in answers.values()}
    assert sorted(by_status) == [201, 409], [r.text for r in answers.values()]
    assert by_status[409].json() == {
        "detail": "A request with this Idempotency-Key is still in progress; retry shortly.",
        "code": "idempotency_in_progress",
    }
    assert int(by_status[409].headers["Retry-After"]) >= 1
    assert len(_chats(agents_double)) == 1
    later = _send(pair[0], auth, key=key)  # once the first answered, the key answers it again
    assert later.status_code == 201 and later.json() == by_status[201].json()
    assert later.headers["Idempotency-Replayed"] == "true"
    assert len(_chats(agents_double)) == 1


def test_a_reused_key_with_another_body_is_422_on_the_other_replica(pair, agents_double, alice):
    auth = bearer(alice)
    a, b = pair
    key = str(uuid.uuid4())

    first = _send(a, auth, key=key, content="hi")
    reused = _send(b, auth, key=key, content="something else")

    assert first.status_code == 201
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert [c["body"] for c in _chats(agents_double)] == ['{"content": "hi"}']


def test_a_dead_workers_key_is_freed_when_its_lease_ends(pair, agents_double, alice, django_db_blocker, tmp_path):
    auth = bearer(alice)
    doomed = Replica(
        tmp_path,
        name="doomed",
        workers=1,
        threads=4,
        double=agents_double,
        **_replica_env(INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS=str(DOOMED_CHAT_TIMEOUT_SECONDS)),
    )
    key = str(uuid.uuid4())
    agents_double.switch(latency_ms=20_000, latency_match="chat$")
    with django_db_blocker.unblock():
        doomed.start()
    try:
        in_flight = threading.Thread(target=lambda: _swallow(lambda: _send(doomed, auth, key=key)), daemon=True)
        in_flight.start()
        _wait_for(lambda: len(_chats(agents_double)) == 1, seconds=10)  # it holds the key and waits upstream
        doomed.kill_hard()
        killed_at = time.monotonic()
    finally:
        doomed.stop()
    agents_double.clear_switches()

    held = _send(pair[1], auth, key=key)
    while True:
        retried = _send(pair[1], auth, key=key)
        if retried.status_code != 409 or time.monotonic() - killed_at > 60:
            break
        time.sleep(0.5)
    freed_after = time.monotonic() - killed_at

    assert held.status_code == 409 and held.json()["code"] == "idempotency_in_progress"
    assert retried.status_code == 201, retried.text
    assert "Idempotency-Replayed" not in retried.headers  # served for real: the dead worker kept no answer
    assert freed_after < DOOMED_CHAT_TIMEOUT_SECONDS + 10 + 15  # its lease, with a generous margin
    assert len(_chats(agents_double)) == 2


def _swallow(call) -> None:
    try:
        call()
    except requests.RequestException:
        pass  # its worker is killed mid-request


def _wait_for(condition, *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
