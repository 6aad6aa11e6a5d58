"""GET /personal/usage: the plan's entities, messages and open streams, each beside its limit, as the RateLimit
fields and the 429s count them. Live, across gunicorn workers on Redis: tests/test_live_stream_admission.py."""

import re

import pytest
from django.core.cache import cache

from accounts.models import Plan
from accounts.services import api_key_create
from accounts.tests.factories import UserFactory
from personal.tests.sse import hang_up
from tests.helpers.auth import bearer
from tests.helpers.constants import SERVICE_KEY
from wisdom.cache import forget_outage

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("connection_kept_open")]

URL = "/personal/usage"
RATE_LIMIT = re.compile(r'"minute";r=(\d+);t=(\d+), "day";r=(\d+);t=(\d+)')


@pytest.fixture(autouse=True)
def plan_limits(settings):
    cache.clear()
    settings.PERSONAL_FREE_TIER_ENTITY_CAP = 2
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = 10
    settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY = 200
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 2
    settings.PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS = None
    yield
    cache.clear()


def _entity(api_client, user, name="ada"):
    assert api_client.post("/personal/entities", {"name": name}, format="json", headers=bearer(user)).status_code == 201


def _usage(api_client, user=None, **headers):
    return api_client.get(URL, headers={**(bearer(user) if user else {}), **headers})


def test_a_new_user_has_used_nothing_of_the_free_plan(api_client, user, agents_double):
    response = _usage(api_client, user)

    assert response.status_code == 200
    assert response.json() == {
        "plan": "free",
        "entities": {"used": 0, "limit": 2},
        "messages": {
            "minute": {"used": 0, "limit": 10, "reset_seconds": 0},
            "day": {"used": 0, "limit": 200, "reset_seconds": 0},
        },
        "streams": {"open": 0, "limit": 2},
    }
    assert [(c["method"], c["path"]) for c in agents_double.received()] == [("GET", "/entities")]  # one call


def test_usage_agrees_with_the_ratelimit_fields_of_the_last_message(api_client, user, agents_double):
    _entity(api_client, user)
    for _ in range(3):
        last = api_client.post(
            "/personal/entities/ada/messages", {"content": "hi"}, format="json", headers=bearer(user)
        )

    usage = _usage(api_client, user).json()

    minute_left, minute_reset, day_left, day_reset = map(int, RATE_LIMIT.fullmatch(last["RateLimit"]).groups())
    assert usage["entities"] == {"used": 1, "limit": 2}
    assert usage["messages"]["minute"]["used"] == 3 == 10 - minute_left
    assert usage["messages"]["day"]["used"] == 3 == 200 - day_left
    assert abs(usage["messages"]["minute"]["reset_seconds"] - minute_reset) <= 1
    assert abs(usage["messages"]["day"]["reset_seconds"] - day_reset) <= 1


def test_an_open_stream_counts_until_it_ends(api_client, user, agents_double):
    _entity(api_client, user)
    agents_double.switch(stream_step=True)
    stream = api_client.post(
        "/personal/entities/ada/messages",
        {"content": "one two"},
        format="json",
        headers={**bearer(user), "Accept": "text/event-stream"},
    )
    chunks = iter(stream.streaming_content)
    next(chunks), next(chunks)

    during = _usage(api_client, user).json()["streams"]
    hang_up(stream)
    after = _usage(api_client, user).json()["streams"]

    assert during == {"open": 1, "limit": 2}
    assert after == {"open": 0, "limit": 2}


def test_a_plan_without_limits_shows_null_limits_and_uncounted_figures(api_client, agents_double, settings):
    settings.PERSONAL_ENTERPRISE_TIER_ENTITY_CAP = None
    settings.PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_MINUTE = None
    settings.PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_DAY = None
    enterprise = UserFactory(email="big@example.com", plan=Plan.ENTERPRISE)
    _entity(api_client, enterprise)

    usage = _usage(api_client, enterprise).json()

    assert usage == {
        "plan": "enterprise",
        "entities": {"used": 1, "limit": None},
        "messages": {
            "minute": {"used": None, "limit": None, "reset_seconds": None},
            "day": {"used": None, "limit": None, "reset_seconds": None},
        },
        "streams": {"open": None, "limit": None},
    }


def test_an_api_key_and_the_service_key_acting_for_the_user_see_the_same_usage(api_client, user, agents_double):
    _entity(api_client, user)
    _, secret = api_key_create(user=user, name="laptop")

    by_token = _usage(api_client, user).json()
    by_key = _usage(api_client, **{"X-API-Key": secret}).json()
    by_service = _usage(api_client, **{"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(user.pk)}).json()

    assert by_token == by_key == by_service
    assert by_token["entities"]["used"] == 1


def test_only_the_callers_own_entities_and_messages_count(api_client, user, other_user, agents_double):
    _entity(api_client, other_user, name="bea")
    api_client.post("/personal/entities/bea/messages", {"content": "hi"}, format="json", headers=bearer(other_user))

    usage = _usage(api_client, user).json()

    assert usage["entities"]["used"] == 0
    assert usage["messages"]["minute"]["used"] == 0


def test_with_the_cache_down_the_limits_show_and_the_counts_are_null(api_client, user, agents_double, settings):
    working = settings.CACHES
    settings.CACHES = {"default": {"BACKEND": "wisdom.redis_cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    forget_outage()
    try:
        response = _usage(api_client, user)
    finally:
        settings.CACHES = working
        forget_outage()

    assert response.status_code == 200
    assert response.json()["messages"]["minute"] == {"used": None, "limit": 10, "reset_seconds": None}
    assert response.json()["streams"] == {"open": None, "limit": 2}
    assert response.json()["entities"] == {"used": 0, "limit": 2}


def test_without_credentials_usage_is_401(api_client, agents_double):
    assert _usage(api_client).status_code == 401
    assert agents_double.received() == []
