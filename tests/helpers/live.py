"""Real server processes for end-to-end tests: gunicorn serving wisdom on the test database."""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from tests.helpers.constants import AGENTS_API_KEY, ROTATED_SERVICE_KEY, SERVICE_KEY
from tests.helpers.processes import ROOT, free_port, stop, wait_until_up

# The environment of a production-like wisdom: the real settings module, debug off.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "wisdom.settings",
    "WISDOM_ENV_FILE": os.devnull,  # never the developer's .env
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "AGENTS_SERVICE_API_KEY": f"{SERVICE_KEY},{ROTATED_SERVICE_KEY}",
    "INTUNO_AGENTS_API_KEY": AGENTS_API_KEY,
    "INTUNO_AGENTS_BASE_URL": "http://127.0.0.1:9",
    "THROTTLE_RATE_LOGIN": "1000/min",
    "THROTTLE_RATE_INVITES": "1000/min",
    "LOGIN_FAILURE_LIMIT": "1000000",
    "LOGIN_FAILURE_LIMIT_PER_ADDRESS": "1000000",
    "PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE": "100000",
    "PERSONAL_FREE_TIER_MESSAGES_PER_DAY": "100000",
    "PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE": "100000",
    "PERSONAL_PRO_TIER_MESSAGES_PER_DAY": "100000",
    "PERSONAL_FREE_TIER_CONCURRENT_STREAMS": "",
    "PERSONAL_PRO_TIER_CONCURRENT_STREAMS": "",
    "CACHE_URL": "locmemcache://live",
}


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django made, so a subprocess sees the same data."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def wisdom_server(
    tmp_path: Path, *, workers: int = 1, threads: int = 16, double=None, config: str = "gunicorn.conf.py", **env: str
) -> Iterator[LiveServer]:
    """gunicorn with the committed gunicorn.conf.py (or `config`), on a free port, against the test database;
    in front of `double` (a tests.helpers.double.DoubleProcess) when one is given."""
    if double is not None:
        env = {"INTUNO_AGENTS_BASE_URL": double.url, "INTUNO_AGENTS_API_KEY": double.api_key, **env}
    port = free_port()
    log_path = tmp_path / f"wisdom-{port}.log"
    full_env = {
        **os.environ,
        **BASE_ENV,
        "DATABASE_URL": test_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_THREADS": str(threads),
        **env,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", config, "wisdom.wsgi:application"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", process)
        yield LiveServer(url=url, process=process, log_path=log_path)
    finally:
        stop(process)
