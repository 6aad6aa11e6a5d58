"""schemathesis against the committed openapi.yaml: a live wisdom under gunicorn, the agents double behind it.

Every operation is called as a real caller (a user's JWT; for the invite admin API a staff user's JWT or the
service key, drawn per case) and every response must match the committed schema: status documented, content
type, body. The only 5xx allowed are the documented 502/504. Generated path parameters, and the login and
refresh bodies, are sometimes swapped for seeded real ones, so cases get past 404 and 401 too.

CI runs a small, derandomized number of examples per operation; `WISDOM_FUZZ_EXAMPLES=500` runs a longer one.
"""

import collections
import hashlib
import os
import uuid

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.specs.openapi.checks import ignored_auth

from accounts.models import Plan
from accounts.services import tokens_for
from tests.helpers.constants import PASSWORD, SERVICE_KEY
from tests.helpers.processes import ROOT

pytestmark = [pytest.mark.live, pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("WISDOM_FUZZ_EXAMPLES", "25"))

SEED_NAME = "fuzz-mine"  # an entity the caller owns
OTHER_NAME = "fuzz-theirs"  # an entity another user owns: 403
OTHER_OWNER = "0c8d1f5e-2b7a-4e3c-9f61-5a4b3c2d1e0f"
SEED_INVITE_ID = uuid.UUID("5d2c9a4e-1f3b-4c6d-8e7f-9a0b1c2d3e4f")
ACTIVE_TOKEN = "fuzz-active-invite-token-0123456789abcdefghijklmn"
REVOKED_TOKEN = "fuzz-revoked-invite-token-0123456789abcdefghijklm"

schema = schemathesis.openapi.from_path(
    ROOT / "openapi.yaml",
    config=schemathesis.Config.from_dict(
        {
            "seed": 6,
            "request-timeout": 30,
            # Credentials are a real caller's (headers_for); generated ones would only ever be 401s.
            "generation": {"with-security-parameters": False},
            # 502/504 are documented answers about the agents service; any other 5xx is a bug.
            "checks": {
                "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "504"]},
                # Off: schema-valid input is refused by documented rules no schema expresses (a password the
                # validators refuse, an expiry in the past, a revoked invite's 410, the agents service's own 422s,
                # "no fields to update"); status_code_conformance still requires every such status documented.
                "positive_data_acceptance": {"enabled": False},
            },
        }
    ),
)

CREDENTIAL_HEADERS = {"x-service-key", "x-on-behalf-of", "x-api-key"}

# (operation, status) -> count, printed at the end of the module (run with -s to see it).
OUTCOMES: collections.Counter = collections.Counter()


@pytest.fixture(scope="module")
def fuzz_server(start_wisdom):
    """Its own gunicorn, so that throttles never answer 429 in place of the code under test."""
    with start_wisdom(THROTTLE_RATE_LOGIN="1000000/min", THROTTLE_RATE_INVITES="1000000/min") as server:
        yield server
    print(f"\nfuzz: {sum(OUTCOMES.values())} cases, {EXAMPLES} examples per operation")
    for (label, status), count in sorted(OUTCOMES.items()):
        print(f"  {label:55} {status}  {count}")


class World:
    """The seeded callers, entities and invites one operation's cases run against."""

    def __init__(self, server, double, user, staff):
        self.url = server.url
        self.double = double
        self.user = user
        self.staff = staff
        self.user_headers = {"Authorization": f"Bearer {tokens_for(user=user)['access_token']}"}
        self.staff_headers = {"Authorization": f"Bearer {tokens_for(user=staff)['access_token']}"}
        self.service_headers = {"X-Service-Key": SERVICE_KEY}

    def ensure_entity(self, name: str, owner: str) -> None:
        """Straight to the double: a fuzzed DELETE may have removed it; 409 means it is there already."""
        response = self.double.seed_entity(name=name, owner_id=owner, display_name=name, description="seeded")
        assert response.status_code in (201, 409), response.text


@pytest.fixture
def world(fuzz_server, agents_double, make_live_user):
    from invites.services import invite_create

    user = make_live_user(email="fuzzer@example.com", first_name="Fuzz", plan=Plan.ENTERPRISE)
    staff = make_live_user(email="fuzz-staff@example.com", first_name="Stella", is_staff=True)
    world = World(fuzz_server, agents_double, user, staff)
    world.ensure_entity(SEED_NAME, str(user.pk))
    world.ensure_entity(OTHER_NAME, OTHER_OWNER)
    active = invite_create(inviter=staff, note="fuzz", max_uses=10_000)
    revoked = invite_create(inviter=staff, note="fuzz revoked")
    seeded = invite_create(inviter=staff, email="seeded@example.com", max_uses=3)
    type(active).objects.filter(pk=active.pk).update(token=ACTIVE_TOKEN)
    type(revoked).objects.filter(pk=revoked.pk).update(token=REVOKED_TOKEN, revoked_at=revoked.created_at)
    type(seeded).objects.filter(pk=seeded.pk).update(id=SEED_INVITE_ID)
    return world


def pick(case, salt: str, choices: tuple):
    """A choice fixed by the generated case, so derandomized runs repeat it and every phase (examples, coverage,
    fuzzing) gets it; `@schema.given` would be hypothesis-driven but cannot be combined with schema examples."""
    digest = hashlib.sha256(f"{salt}|{case!r}".encode()).digest()
    return choices[digest[0] % len(choices)]


def headers_for(case, world: World) -> dict:
    """No credentials where the operation declares none; the invite admin API as staff or as a service."""
    definition = case.operation.definition.raw
    if definition.get("security") == []:
        return {}
    if "invites" in definition.get("tags", []):
        return pick(case, "caller", (world.staff_headers, world.service_headers))
    return world.user_headers


def seed(case, world: World) -> None:
    """Half the time swap generated values of a schema-valid case for real, equally valid ones. Negative cases
    are left as generated: their checks judge the mutation schemathesis made, which a swap would hide."""
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        return
    params = case.path_parameters or {}
    if "name" in params:
        name = pick(case, "entity", (None, SEED_NAME, None, OTHER_NAME))
        if name is not None:
            world.ensure_entity(name, str(world.user.pk) if name == SEED_NAME else OTHER_OWNER)
            case.path_parameters = {**params, "name": name}
    if "token" in params and (token := pick(case, "token", (None, ACTIVE_TOKEN, None, REVOKED_TOKEN))):
        case.path_parameters = {**params, "token": token}
    if "id" in params and pick(case, "id", (False, True)):
        case.path_parameters = {**params, "id": str(SEED_INVITE_ID)}
    if case.operation.path == "/auth/login" and pick(case, "login", (False, True)):
        case.body = {"email": world.user.email.upper(), "password": PASSWORD}
    if case.operation.path == "/auth/refresh" and pick(case, "refresh", (False, True)):
        case.body = {"refresh_token": tokens_for(user=world.user)["refresh_token"]}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,  # a live server over HTTP: timing is not the property under test
    derandomize=True,  # CI reproduces what it found
    database=None,
    # `world` is seeded once per operation on purpose: its cases share it and restore the entity they need.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_response_matches_the_committed_schema(case, world):
    seed(case, world)
    # The credential headers are documented parameters; like security parameters they are the caller's, not drawn
    # (a drawn X-Service-Key is only ever a 401; tests/test_contract_statuses.py covers their refusals).
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in CREDENTIAL_HEADERS}
    headers = headers_for(case, world)
    response = case.call(base_url=world.url, headers=headers)
    OUTCOMES[(case.operation.label, response.status_code)] += 1
    # The service key is a documented header, not a listed security scheme (a generated client would send the
    # bearer token as the key too): `ignored_auth` would drop only Authorization and find the key still let in.
    excluded = [ignored_auth] if "X-Service-Key" in headers else []
    case.validate_response(
        response,
        excluded_checks=excluded,
        headers=headers,
        transport_kwargs={"base_url": world.url, "headers": headers},
    )
