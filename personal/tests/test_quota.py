"""Each plan's entity cap, counted upstream; a refused create never reaches upstream."""

import pytest

from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer

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
def test_the_count_and_create_run_under_a_lock_on_the_users_row(api_client, user, agents_double, monkeypatch):
    from django.db import connection

    from personal import client as client_module

    seen = {}
    real_list = client_module.AgentsClient.entity_list

    def spy(self, **kwargs):
        seen["in_atomic_block"] = connection.in_atomic_block
        seen["sql"] = [q["sql"] for q in connection.queries_log]
        return real_list(self, **kwargs)

    monkeypatch.setattr(client_module.AgentsClient, "entity_list", spy)
    connection.force_debug_cursor = True
    try:
        assert _create(api_client, user, "first").status_code == 201
    finally:
        connection.force_debug_cursor = False

    assert seen["in_atomic_block"] is True
    if connection.vendor == "postgresql":
        assert any("FOR UPDATE" in sql and "accounts_user" in sql for sql in seen["sql"])
    else:  # SQLite has no row locks: the write lock taken at BEGIN IMMEDIATE serialises creates
        assert "BEGIN IMMEDIATE" in seen["sql"]
