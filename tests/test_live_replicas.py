"""Two replicas behind nginx on one PostgreSQL and one Redis: the races hold across replicas, throttles count
across both, /metrics reports what happened (and nothing about whom), and a replica killed outright loses only
the requests it held, half-writes none, and comes back into rotation."""

import re
import threading
import time
import uuid

import pytest
import requests

from accounts.models import User
from invites.models import Invite, InviteRedemption
from invites.tests.factories import InviteFactory
from tests.helpers.auth import on_behalf_of
from tests.helpers.constants import PASSWORD
from tests.helpers.nginx import nginx_proxy, requires_nginx
from tests.helpers.replicas import Replica, SteadyLoad, metric_samples, metric_sum, replica_pair

pytestmark = [
    pytest.mark.live,
    pytest.mark.race,
    pytest.mark.postgres_only,
    requires_nginx,
    pytest.mark.django_db(transaction=True),
]

REDIS_DB = 11  # a database number of this module's own on the shared Redis; keys also carry a run-unique prefix
PREFIX = f"wisdom-replicas-{uuid.uuid4().hex}"
INVITES_PER_MINUTE = 40


def _replica_env(**extra: str) -> dict:
    return {
        "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CACHE_KEY_PREFIX": PREFIX,
        "NUM_PROXIES": "1",  # nginx; FORWARDED_ALLOW_IPS stays 127.0.0.1, where it runs
        "THROTTLE_RATE_INVITES": f"{INVITES_PER_MINUTE}/min",
        "DATABASE_POOL_MAX_SIZE": "8",
        **extra,
    }


@pytest.fixture(scope="module")
def pair(django_db_setup, django_db_blocker, tmp_path_factory, agents_double_session):
    """Replicas a and b (2 workers each) behind one nginx."""
    tmp = tmp_path_factory.mktemp("pair")
    with (
        django_db_blocker.unblock(),
        replica_pair(
            tmp,
            double=agents_double_session,
            redis_db=REDIS_DB,
            key_prefix=PREFIX,
            workers=2,
            threads=16,
            **_replica_env(),
        ) as replicas,
    ):
        with nginx_proxy(tmp, [replica.address for replica in replicas]) as proxy:
            yield proxy, replicas


def _scrape(replicas) -> list[str]:
    return [replica.metrics() for replica in replicas]


def _together(calls: list) -> list[requests.Response]:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait(timeout=30)
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert all(result is not None for result in results), "a call did not finish"
    return results


def _served_by(proxy, method: str, after: int, count: int) -> set[str]:
    """The replicas that answered the `count` requests nginx logged after its first `after` lines."""
    lines = proxy.access_lines(at_least=after + count)[after:]
    return {line["upstream"] for line in lines if line["method"] == method}


def test_thirty_redeems_of_a_five_use_invite_across_both_replicas_make_exactly_five_accounts(pair, agents_double):
    proxy, replicas = pair
    invite = InviteFactory(max_uses=5, inviter=None)
    before, logged = _scrape(replicas), len(proxy.access_lines())

    responses = _together(
        [
            lambda i=i: requests.post(
                f"{proxy.url}/invites/{invite.token}/redeem",
                json={"email": f"pair-{i}@example.com", "password": PASSWORD, "first_name": f"Pair {i}"},
                timeout=60,
            )
            for i in range(30)
        ]
    )
    after = _scrape(replicas)

    assert sorted(r.status_code for r in responses) == [201] * 5 + [410] * 25
    assert _served_by(proxy, "POST", logged, 30) == {replica.address for replica in replicas}
    invite.refresh_from_db()
    assert invite.use_count == 5
    assert InviteRedemption.objects.filter(invite=invite).count() == 5
    assert User.objects.filter(email__startswith="pair-").count() == 5
    redeemed = metric_sum(after, "wisdom_invite_redemptions_total") - metric_sum(
        before, "wisdom_invite_redemptions_total"
    )
    assert redeemed == 5
    route = {"route": "invites/<token>/redeem", "method": "POST"}
    assert (
        metric_sum(after, "wisdom_http_requests_total", status="410", **route)
        - metric_sum(before, "wisdom_http_requests_total", status="410", **route)
        == 25
    )


def test_twenty_simultaneous_creates_by_a_free_user_across_both_replicas_never_pass_the_cap_and_each_429_is_counted(
    pair, agents_double, make_live_user
):
    proxy, replicas = pair
    user = make_live_user(email="quota-pair@example.com")
    agents_double.switch(latency_ms=30)  # widens the window between count and create
    before, logged = _scrape(replicas), len(proxy.access_lines())

    responses = _together(
        [
            lambda i=i: requests.post(
                f"{proxy.url}/personal/entities", json={"name": f"pair-{i}"}, headers=on_behalf_of(user), timeout=60
            )
            for i in range(20)
        ]
    )
    after = _scrape(replicas)

    statuses = [r.status_code for r in responses]
    created = statuses.count(201)
    # The cap holds across replicas. (Exactly one 201 is not guaranteed: see the report on personal/services.py,
    # where a refused confirm's own reservation outlives its rolled-back delete and can refuse the last racer.)
    assert created <= 1 and statuses.count(429) == 20 - created
    assert all(r.json()["code"] == "entity_quota_exceeded" for r in responses if r.status_code == 429)
    assert _served_by(proxy, "POST", logged, 20) == {replica.address for replica in replicas}
    assert len(agents_double.entities()) == created
    refused = metric_sum(after, "wisdom_refusals_total", kind="entity_quota_exceeded") - metric_sum(
        before, "wisdom_refusals_total", kind="entity_quota_exceeded"
    )
    assert refused == 20 - created  # exactly the 429s this test caused, summed over both replicas
    creates = {"operation": "POST /entities", "outcome": "ok"}
    assert (
        metric_sum(after, "wisdom_upstream_requests_total", **creates)
        - metric_sum(before, "wisdom_upstream_requests_total", **creates)
        == created
    )


def test_an_ip_throttle_counts_one_clients_requests_across_both_replicas(pair):
    _, replicas = pair
    client = "198.51.100.23"  # as nginx would forward it (NUM_PROXIES=1: the last X-Forwarded-For entry)
    before = _scrape(replicas)

    statuses = [
        requests.get(
            f"{replicas[i % 2].url}/invites/no-such-token/preview", headers={"X-Forwarded-For": client}, timeout=10
        ).status_code
        for i in range(INVITES_PER_MINUTE + 10)
    ]
    after = _scrape(replicas)

    assert statuses == [404] * INVITES_PER_MINUTE + [429] * 10
    refusals = sum(
        sample.value
        for text in after
        for sample in metric_samples(text)
        if sample.name == "wisdom_refusals_total" and sample.labels["kind"] != "entity_quota_exceeded"
    ) - sum(
        sample.value
        for text in before
        for sample in metric_samples(text)
        if sample.name == "wisdom_refusals_total" and sample.labels["kind"] != "entity_quota_exceeded"
    )
    assert refusals == 10
    assert metric_sum(after, "wisdom_refusals_total", kind="throttled") >= 10


def test_metrics_labels_never_hold_a_user_id_an_email_a_token_or_a_name(pair, agents_double, make_live_user):
    proxy, replicas = pair
    user = make_live_user(email="labels-secret-person@example.com")
    invite = InviteFactory(max_uses=1, inviter=None)
    headers = on_behalf_of(user)
    requests.post(f"{proxy.url}/personal/entities", json={"name": "secret-entity-name"}, headers=headers, timeout=30)
    requests.post(
        f"{proxy.url}/personal/entities/secret-entity-name/messages",
        json={"content": "hi"},
        headers=headers,
        timeout=30,
    )
    requests.get(f"{proxy.url}/personal/entities/no-such-secret-name", headers=headers, timeout=30)
    requests.get(f"{proxy.url}/invites/{invite.token}/preview", timeout=30)
    requests.post(
        f"{proxy.url}/invites/{invite.token}/redeem",
        json={"email": "labels-redeemer@example.com", "password": PASSWORD, "first_name": "Label"},
        timeout=30,
    )
    requests.get(f"{proxy.url}/some/unknown/{uuid.uuid4()}", timeout=30)

    texts = _scrape(replicas)
    values = {value for text in texts for sample in metric_samples(text) for value in sample.labels.values()}

    redeemer = User.objects.get(email="labels-redeemer@example.com")
    forbidden = [str(user.pk), str(redeemer.pk), user.email, "labels-redeemer", invite.token, "secret-entity-name"]
    forbidden += ["no-such-secret-name", "some/unknown"]
    assert [value for value in values if any(f in value for f in forbidden)] == []
    assert not [v for v in values if re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", v)]
    routes = {sample.labels["route"] for sample in metric_samples(texts[0] + texts[1]) if "route" in sample.labels}
    assert {"personal/entities/<name>", "personal/entities/<name>/messages", "unmatched"} <= routes
    operations = {s.labels["operation"] for s in metric_samples(texts[0] + texts[1]) if "operation" in s.labels}
    assert "POST /entities/{name}/chat" in operations


def test_metrics_is_answered_to_the_scraper_but_not_through_nginx(pair):
    proxy, replicas = pair

    through_nginx = requests.get(f"{proxy.url}/metrics", timeout=10)
    direct = requests.get(f"{replicas[0].url}/metrics", timeout=10)
    forwarded_for_a_stranger = requests.get(
        f"{replicas[0].url}/metrics", headers={"X-Forwarded-For": "203.0.113.50"}, timeout=10
    )

    assert through_nginx.status_code == 404 and through_nginx.json() == {"detail": "Not found."}
    assert direct.status_code == 200 and direct.headers["Content-Type"].startswith("text/plain")
    assert "wisdom_http_requests_total" in direct.text
    assert forwarded_for_a_stranger.status_code == 404
    texts = _scrape(replicas)
    assert metric_sum(texts, "wisdom_db_pool_requests_total") > 0  # every connection is borrowed from a pool
    assert 0 < metric_sum(texts, "wisdom_db_pool_max_connections") <= 2 * 2 * 8  # replicas x workers x pool size


# --- a replica killed outright ---------------------------------------------------------------------------------


def test_a_replica_killed_outright_loses_only_what_it_held_half_writes_nothing_and_comes_back(
    tmp_path, agents_double, make_live_user
):
    reader = make_live_user(email="reader@example.com")
    invite = InviteFactory(max_uses=1000, inviter=None)
    env = _replica_env(THROTTLE_RATE_INVITES="10000/min")
    replicas = [Replica(tmp_path, name=n, workers=2, threads=16, double=agents_double, **env) for n in "ab"]
    counter = iter(range(10_000))
    redeemers = 3
    try:
        for replica in replicas:
            replica.start()
        with nginx_proxy(tmp_path, [replica.address for replica in replicas]) as proxy:

            def redeem():
                i = next(counter)
                return requests.post(
                    f"{proxy.url}/invites/{invite.token}/redeem",
                    json={"email": f"killed-{i}@example.com", "password": PASSWORD, "first_name": f"Killed {i}"},
                    timeout=60,
                )

            def read():
                return requests.get(f"{proxy.url}/personal/entities", headers=on_behalf_of(reader), timeout=30)

            with SteadyLoad(read, threads=2) as reads, SteadyLoad(redeem, threads=redeemers, pause=0) as redeems:
                time.sleep(2)
                killed = replicas[0]
                killed.kill_hard()
                time.sleep(1)
                killed.start()
                back_at = len(proxy.access_lines())
                deadline = time.monotonic() + 20
                while killed.address not in {line["upstream"] for line in proxy.access_lines()[back_at:]}:
                    assert time.monotonic() < deadline, "the replica took no traffic after it came back"
                    time.sleep(0.1)
                time.sleep(1)
    finally:
        for replica in replicas:
            replica.stop()

    print(
        f"\nkill -9: reads {len(reads.statuses)} failed {len(reads.failures())}; redeems {len(redeems.statuses)} "
        f"created {redeems.statuses.count(201)} failed {redeems.failures()}"
    )
    assert reads.failures() == []  # a GET in flight on the killed replica is retried on the other
    assert len(reads.statuses) > 20
    failed_redeems = redeems.failures()
    assert set(failed_redeems) <= {502}, redeems.failed_bodies  # nginx's own answer in wisdom's shape; never a 500
    assert len(failed_redeems) <= redeemers  # at most the redeems in flight on it (one per sender)
    created = redeems.statuses.count(201)
    assert created > 10
    invite.refresh_from_db()
    users = User.objects.filter(email__startswith="killed-").count()
    redemptions = InviteRedemption.objects.filter(invite=invite).count()
    assert users == redemptions == invite.use_count  # nothing half-written
    assert created <= invite.use_count <= created + len(failed_redeems)
    assert Invite.objects.get(pk=invite.pk).use_count == users
