"""Simultaneous redeems of one invite across several gunicorn processes: exactly max_uses win."""

import threading
import time

import pytest
import requests

from accounts.models import User
from invites.models import Invite, InviteRedemption
from invites.tests.factories import InviteFactory
from tests.helpers.constants import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.race, pytest.mark.django_db(transaction=True)]

ATTEMPTS = 30


@pytest.fixture(scope="module")
def race_server(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.helpers.live import wisdom_server

    with django_db_blocker.unblock(), wisdom_server(tmp_path_factory.mktemp("race"), workers=3, threads=8) as server:
        yield server


def redeem_all_at_once(url: str, token: str, prefix: str) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(ATTEMPTS)
    results: list[tuple[int, dict] | None] = [None] * ATTEMPTS

    def attempt(i: int) -> None:
        with requests.Session() as session:
            session.get(f"{url}/healthz", timeout=10)  # connect first, so the barrier releases requests, not handshakes
            barrier.wait(timeout=30)
            response = session.post(
                f"{url}/invites/{token}/redeem",
                json={"email": f"{prefix}-{i}@example.com", "password": PASSWORD, "first_name": f"Racer {i}"},
                timeout=60,
            )
            results[i] = (response.status_code, response.json())

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert all(r is not None for r in results), "an attempt did not finish"
    return results


@pytest.mark.parametrize("max_uses", [1, 5])
def test_thirty_simultaneous_redeems_make_exactly_max_uses_accounts(race_server, max_uses):
    invite = InviteFactory(max_uses=max_uses, inviter=None)
    prefix = f"racer{max_uses}"

    started = time.monotonic()
    results = redeem_all_at_once(race_server.url, invite.token, prefix)
    elapsed = time.monotonic() - started

    statuses = [status for status, _ in results]
    successes = statuses.count(201)
    print(f"\nrace max_uses={max_uses}: 201={successes} 410={statuses.count(410)} others={statuses} in {elapsed:.2f}s")
    assert successes == max_uses
    assert statuses.count(410) == ATTEMPTS - max_uses
    assert all(
        body == {"detail": "This invite has been used up.", "status": "used_up"} for s, body in results if s == 410
    )
    assert all(
        set(body) == {"access_token", "refresh_token", "token_type", "expires_in"} for s, body in results if s == 201
    )

    invite.refresh_from_db()
    assert invite.use_count == max_uses
    assert InviteRedemption.objects.filter(invite=invite).count() == max_uses
    winners = {
        body_email for body_email in User.objects.filter(email__startswith=f"{prefix}-").values_list("email", flat=True)
    }
    assert len(winners) == max_uses
    assert set(InviteRedemption.objects.filter(invite=invite).values_list("email", flat=True)) == winners
    assert Invite.objects.get(pk=invite.pk).status == "used_up"
    assert "Traceback" not in race_server.log()
    assert invite.token not in race_server.log()
