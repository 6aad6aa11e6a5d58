"""Each plan's entity cap, counted upstream; a refused create never reaches upstream."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from personal import services
from personal.errors import EntityQuotaExceeded
from personal.models import EntityReservation
from tests.helpers.auth import bearer
from tests.helpers.database import database_is_free

pytestmark = pytest.mark.django_db


def _create(api_client, user, name):
    return api_client.post("/personal/entities", {"name": name}, format="json", headers=bearer(user))


def test_a_free_user_at_the_cap_gets_429_with_code_plan_and_limit(api_client, user, agents_double):
    assert _create(api_client, user, "first").status_code == 201
    agents_double.clear_received()

    response = _create(api_client, user, "second")

    assert response.status_code == 429
    assert response.json() == {
        "detail": "Entity limit reached for the free plan (1).",
        "code": "entity_quota_exceeded",
        "plan": "free",
        "limit": 1,
    }
    assert "Retry-After" not in response
    assert [(c["method"], c["path"]) for c in agents_double.received()] == [("GET", "/entities")]
    assert [e["name"] for e in agents_double.entities()] == ["first"]


def test_a_pro_user_may_have_three(api_client, agents_double):
    pro = UserFactory(plan="pro")

    statuses = [_create(api_client, pro, f"e{i}").status_code for i in range(4)]

    assert statuses == [201, 201, 201, 429]
    assert _create(api_client, pro, "e5").json()["detail"] == "Entity limit reached for the pro plan (3)."


def test_an_enterprise_user_has_no_cap_and_no_count_is_made(api_client, agents_double):
    enterprise = UserFactory(plan="enterprise")

    statuses = [_create(api_client, enterprise, f"e{i}").status_code for i in range(5)]

    assert statuses == [201] * 5
    assert {c["method"] for c in agents_double.received()} == {"POST"}


def test_the_caps_come_from_settings_and_empty_means_no_cap(api_client, user, agents_double, settings):
    settings.PERSONAL_FREE_TIER_ENTITY_CAP = 2
    assert [_create(api_client, user, f"e{i}").status_code for i in range(3)] == [201, 201, 429]

    settings.PERSONAL_FREE_TIER_ENTITY_CAP = None
    assert _create(api_client, user, "e9").status_code == 201


def test_other_users_entities_do_not_count_against_mine(api_client, user, other_user, agents_double):
    assert _create(api_client, other_user, "bobs").status_code == 201

    assert _create(api_client, user, "mine").status_code == 201


def test_deleting_frees_a_place(api_client, user, agents_double):
    _create(api_client, user, "first")
    api_client.delete("/personal/entities/first", headers=bearer(user))

    assert _create(api_client, user, "second").status_code == 201


def test_a_failed_count_refuses_the_create_without_creating(api_client, user, agents_double):
    agents_double.switch(fault="canned", fault_status=503, fault_match="^GET /entities$")

    response = _create(api_client, user, "first")

    assert response.status_code == 502
    assert [c["method"] for c in agents_double.received()] == ["GET"]
    assert agents_double.entities() == []


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_and_no_connection_held_while_upstream_counts_or_creates(
    api_client, user, agents_double, monkeypatch
):
    from django.db import connection

    from personal import client as client_module

    seen = []
    real_call = client_module.AgentsClient._send

    def spy(self, method, path, **kwargs):
        seen.append((method, path, connection.in_atomic_block, database_is_free(connection)))
        return real_call(self, method, path, **kwargs)

    monkeypatch.setattr(client_module.AgentsClient, "_send", spy)
    assert _create(api_client, user, "first").status_code == 201

    assert seen == [("GET", "/entities", False, True), ("POST", "/entities", False, True)]
    assert EntityReservation.objects.get(user=user).finished_at is not None  # counted a while longer


def test_a_create_in_flight_fills_the_cap_so_a_second_is_refused_at_once(api_client, user, agents_double):
    EntityReservation.objects.create(user=user, expires_at=timezone.now() + timedelta(seconds=60))

    response = _create(api_client, user, "second")

    assert (response.status_code, response.json()["code"]) == (429, "entity_quota_exceeded")
    assert agents_double.received() == []  # refused before asking upstream anything
    assert EntityReservation.objects.filter(user=user).count() == 1


def test_a_reservation_left_by_a_dead_worker_expires_and_frees_its_place(api_client, user, agents_double):
    EntityReservation.objects.create(user=user, expires_at=timezone.now() - timedelta(seconds=1))

    response = _create(api_client, user, "first")

    assert response.status_code == 201
    assert [r.finished_at is not None for r in EntityReservation.objects.filter(user=user)] == [True]


def test_a_create_finished_after_my_count_began_still_counts(user, agents_double):
    mine = services.reservation_take(user=user)
    mine_id = mine.pk  # delete() clears the instance's pk
    EntityReservation.objects.create(  # another create that landed upstream after my count started
        user=user, finished_at=timezone.now() + timedelta(seconds=1), expires_at=timezone.now() + timedelta(seconds=60)
    )

    with pytest.raises(EntityQuotaExceeded):
        services.reservation_confirm(reservation=mine, existing=0)

    assert not EntityReservation.objects.filter(pk=mine_id).exists()  # its refusal is committed, not rolled back


def test_a_refused_or_failed_create_frees_its_place(api_client, user, agents_double):
    agents_double.switch(fault="canned", fault_status=409, fault_match="^POST /entities$")

    assert _create(api_client, user, "first").status_code == 409
    assert not EntityReservation.objects.filter(user=user).exists()

    agents_double.clear_switches()
    assert _create(api_client, user, "first").status_code == 201
