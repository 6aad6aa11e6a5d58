"""A deploy that forgot `migrate`, through a real gunicorn: never "busy, retry later" but a 500 in the one body
shape with the traceback in the log, and a replica that is unready (503) saying why."""

import contextlib
from collections.abc import Iterator

import psycopg
import pytest
import requests
from django.db import connection

from tests.helpers.live import wisdom_server

pytestmark = pytest.mark.live

SERVER_ERROR = {"detail": "A server error occurred."}
UNMIGRATED = {"status": "unavailable", "checks": {"database": "unmigrated"}}


@contextlib.contextmanager
def _empty_postgres_database() -> Iterator[str]:
    settings = connection.settings_dict
    server = {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432, "user": settings["USER"]}
    name = f"{settings['NAME']}_unmigrated"
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{server['user']}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _answers_of_an_unmigrated_server(tmp_path, database_url: str):
    with wisdom_server(tmp_path, DATABASE_URL=database_url, WISDOM_EMBEDDED_STORES="true") as server:
        ready = requests.get(f"{server.url}/readyz", timeout=30)
        login = requests.post(f"{server.url}/auth/login", json={"email": "a@example.com", "password": "x"}, timeout=30)
        log = server.log()
    return ready, login, log


def test_on_an_unmigrated_sqlite_file_requests_are_500_not_503_and_readiness_says_unmigrated(tmp_path):
    ready, login, log = _answers_of_an_unmigrated_server(tmp_path, f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}")

    assert (ready.status_code, ready.json()) == (503, UNMIGRATED)
    assert (login.status_code, login.json()) == (500, SERVER_ERROR)
    assert "Retry-After" not in login.headers
    assert "Traceback" not in login.text
    assert "no such table" in log and "Traceback" in log
    assert "migrations are not applied" in log


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_on_an_unmigrated_postgres_database_requests_are_500_not_503_and_readiness_says_unmigrated(tmp_path):
    with _empty_postgres_database() as database_url:
        ready, login, log = _answers_of_an_unmigrated_server(tmp_path, database_url)

    assert (ready.status_code, ready.json()) == (503, UNMIGRATED)
    assert (login.status_code, login.json()) == (500, SERVER_ERROR)
    assert "Retry-After" not in login.headers
    assert "does not exist" in log and "Traceback" in log
