"""Fixtures shared by every app's tests."""

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import redis
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer
from tests.helpers.constants import AGENTS_API_KEY, PASSWORD
from tests.helpers.redis_monitor import REDIS_URL
from wisdom.cache import forget_outage


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(email="alice@example.com", first_name="Alice")


@pytest.fixture
def other_user(db):
    return UserFactory(email="bob@example.com", first_name="Bob")


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@example.com", first_name="Stella", is_staff=True)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    return client


@pytest.fixture(scope="session")
def live_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def wisdom_live(django_db_setup, django_db_blocker, live_tmp):
    """One gunicorn serving wisdom on the test database for the session; tests use transactional_db."""
    from tests.helpers.live import wisdom_server

    with django_db_blocker.unblock(), wisdom_server(live_tmp, workers=2, threads=8) as server:
        yield server


@pytest.fixture
def make_live_user(transactional_db):
    """Users a live server can log in: committed, with an Argon2 hash (the server's hasher)."""
    from django.contrib.auth.hashers import make_password

    def make(**fields):
        user = UserFactory(**fields)
        user.password = make_password(PASSWORD, hasher="argon2")
        user.save(update_fields=["password"])
        return user

    return make


# --- personal: the agents double (a real subprocess over HTTP) and wisdom pointed at it ---------------
@pytest.fixture(scope="session")
def agents_double_session(tmp_path_factory):
    """One `python -m agents_double` for the session, on a free port; see tests/helpers/double.py."""
    from tests.helpers.double import running_double

    log_path = tmp_path_factory.mktemp("agents-double") / "double.log"
    with running_double(api_key=AGENTS_API_KEY, log_path=log_path) as double:
        yield double


@pytest.fixture
def agents_double(agents_double_session, settings):
    """The double, emptied (entities, recorded requests, switches, counters); in-process wisdom calls it."""
    agents_double_session.reset()
    settings.INTUNO_AGENTS_BASE_URL = agents_double_session.url
    settings.INTUNO_AGENTS_API_KEY = AGENTS_API_KEY
    return agents_double_session


@pytest.fixture(scope="session")
def start_wisdom(django_db_setup, django_db_blocker, live_tmp, agents_double_session):
    """Starts gunicorn (2 workers x 8 threads) on the test database, calling the session's double."""
    from tests.helpers.live import wisdom_server

    @contextlib.contextmanager
    def start(**env: str):
        with (
            django_db_blocker.unblock(),
            wisdom_server(live_tmp, workers=2, threads=8, double=agents_double_session, **env) as server,
        ):
            yield server

    return start


@pytest.fixture(scope="session")
def wisdom_agents_live(start_wisdom):
    """One such gunicorn for the session, with JSON logs."""
    with start_wisdom(LOG_FORMAT="json") as server:
        yield server


def pytest_collection_modifyitems(config, items):
    """On SQLite, tests of PostgreSQL-only guarantees are deselected (CI's PostgreSQL pass runs them)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("postgres_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --- mail: a real SMTP server (aiosmtpd) in the test process ------------------------------------------
@pytest.fixture(scope="session")
def smtp_server_session():
    from tests.helpers.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp_server(smtp_server_session, settings):
    """The SMTP server, emptied and running; in-process wisdom (and its mail worker) sends to it."""
    smtp_server_session.start()  # a test before may have stopped it
    smtp_server_session.clear()
    settings.EMAIL_CONFIGURED = True
    settings.EMAIL_BACKEND = "mail.backends.AbortableSmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server_session.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return smtp_server_session


@pytest.fixture
def send_queued_mail(smtp_server):
    """Runs `manage.py mail_worker --once` in the test process; returns its summary line."""
    import io

    from django.core.management import call_command

    def run() -> str:
        out = io.StringIO()
        call_command("mail_worker", "--once", stdout=out)
        return out.getvalue().strip()

    return run


@pytest.fixture
def contract_server(django_db_setup, django_db_blocker, live_tmp, agents_double):
    """A live wisdom for the contract suite: one worker, so the free plan's message limit is counted in one place
    (its cache is per process)."""
    from tests.helpers.constants import CONTRACT_MESSAGES_PER_MINUTE
    from tests.helpers.live import wisdom_server

    with (
        django_db_blocker.unblock(),
        wisdom_server(
            live_tmp,
            workers=1,
            threads=4,
            double=agents_double,
            PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE=str(CONTRACT_MESSAGES_PER_MINUTE),
            PERSONAL_FREE_TIER_ENTITY_CAP="1",
        ) as server,
    ):
        yield server


@pytest.fixture
def admin_server(tmp_path):
    """A live wisdom for browser tests: production settings over plain http, static files collected into a temp
    dir (the admin's, Swagger UI's), cookies not Secure-only."""
    import subprocess
    import sys

    from tests.helpers import live

    env = {"DJANGO_STATIC_ROOT": str(tmp_path / "static"), "DJANGO_SECURE_COOKIES": "false"}
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=live.ROOT,
        env={**live.BASE_ENV, **env, "DATABASE_URL": live.test_database_url(), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr
    with live.wisdom_server(tmp_path, workers=1, threads=4, **env) as server:
        yield server


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium at 1280 px (tests/helpers/browser.py)."""
    from tests.helpers.browser import chromium

    with chromium(tmp_path) as driver:
        yield driver


@pytest.fixture
def redis_cache(settings) -> Iterator[str]:
    """The default cache on the shared Redis (wisdom's backend), under a prefix of this test's own that is emptied
    after it (never `cache.clear()`: that empties the whole database). Yields the prefix."""
    prefix = f"wisdom-test-{uuid.uuid4().hex[:10]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "wisdom.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    forget_outage()
    yield prefix
    raw = redis.Redis.from_url(REDIS_URL)
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)
