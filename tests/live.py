"""Real server processes for end-to-end tests: gunicorn serving wisdom on the test database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

# The environment of a production-like wisdom: the real settings module, debug off.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "wisdom.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "AGENTS_SERVICE_API_KEY": "test-service-key-1,test-service-key-2",
    "INTUNO_AGENTS_API_KEY": "test-agents-key",
    "INTUNO_AGENTS_BASE_URL": "http://127.0.0.1:9",
    "THROTTLE_RATE_LOGIN": "1000/min",
    "THROTTLE_RATE_INVITES": "1000/min",
    "CACHE_URL": "locmemcache://live",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django made, so a subprocess sees the same data."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            requests.get(url, timeout=0.5)
            return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"server did not answer {url} within {timeout}s")


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def wisdom_server(
    tmp_path: Path, *, workers: int = 1, threads: int = 16, double=None, **env: str
) -> Iterator[LiveServer]:
    """gunicorn with the committed gunicorn.conf.py, on a free port, against the test database;
    in front of `double` (a personal.double.process.DoubleProcess) when one is given."""
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
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"],
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
