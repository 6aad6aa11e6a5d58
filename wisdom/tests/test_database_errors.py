"""A database error is a 503 to retry only when the database is busy (no pooled connection in time, SQLite's lock
wait ran out) or the connection was lost; anything else (a missing table: a deploy that forgot `migrate`) is a 500
in the one body shape, logged loudly, and /readyz says the migrations are unapplied."""

import logging
import sqlite3

import psycopg
import psycopg_pool
import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from rest_framework.test import APIClient

from accounts.models import ApiKey
from tests.helpers.auth import bearer
from wisdom import health

SERVER_ERROR = {"detail": "A server error occurred."}
BUSY = {"detail": "The service is busy; try again shortly."}


@pytest.fixture
def client() -> APIClient:
    return APIClient(raise_request_exception=False)  # as a server answers: the 500 page, not the exception


@pytest.fixture
def migrations_unchecked():
    health.forget_migrations_applied()
    yield
    health.forget_migrations_applied()


def _as_django_raises_it(cause: Exception) -> OperationalError:
    """Django's DatabaseErrorWrapper: the driver's error becomes django.db's, with the driver's as its cause."""
    wrapped = OperationalError(*cause.args)
    wrapped.__cause__ = cause
    return wrapped


def _failing_queries(error: Exception):
    def fail(execute, sql, params, many, context):
        raise error

    return connection.execute_wrapper(fail)


@pytest.mark.django_db
def test_a_missing_table_is_a_500_in_the_one_shape_logged_loudly_and_never_a_busy_503(client, user, caplog):
    headers = bearer(user)
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ApiKey._meta.db_table} RENAME TO gone_apikey")

    response = client.get("/auth/api-keys", headers=headers)

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert response.json() == SERVER_ERROR
    tracebacks = [
        r.exc_text or logging.Formatter().formatException(r.exc_info)
        for r in caplog.records
        if r.levelno >= logging.ERROR and (r.exc_info or r.exc_text)
    ]
    assert any(ApiKey._meta.db_table in text for text in tracebacks)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cause",
    [
        sqlite3.OperationalError("no such table: accounts_apikey"),
        sqlite3.OperationalError("no such column: accounts_apikey.name"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.DiskFull("could not extend file"),
    ],
    ids=["sqlite no such table", "sqlite no such column", "postgres statement timeout", "postgres disk full"],
)
def test_an_operational_error_that_is_not_a_busy_or_lost_database_is_a_500(client, user, cause):
    headers = bearer(user)
    with _failing_queries(_as_django_raises_it(cause)):
        response = client.get("/auth/me", headers=headers)

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert response.json() == SERVER_ERROR


def _sqlite_busy() -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode, error.sqlite_errorname = sqlite3.SQLITE_BUSY, "SQLITE_BUSY"
    return error


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cause",
    [
        psycopg_pool.PoolTimeout("couldn't get a connection after 10.00 sec"),
        psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.ConnectionFailure("connection failure"),
        _sqlite_busy(),
    ],
    ids=["pool checkout timeout", "connection lost", "server shut down", "connection failure", "sqlite lock wait"],
)
def test_a_busy_or_lost_database_is_a_503_with_retry_after(client, user, cause):
    headers = bearer(user)
    with _failing_queries(_as_django_raises_it(cause)):
        response = client.get("/auth/me", headers=headers)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == BUSY


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_a_503_with_retry_after(client, user):
    headers = bearer(user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"], dbname="postgres"
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    try:
        response = client.get("/auth/me", headers=headers)
    finally:
        connection.close()

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == BUSY


@pytest.mark.django_db
def test_readiness_is_503_saying_so_while_a_migration_is_unapplied(api_client, migrations_unchecked):
    MigrationRecorder.Migration.objects.filter(app="accounts").order_by("-id")[:1].get().delete()

    response = api_client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unmigrated"}}


@pytest.mark.django_db
def test_readiness_checks_the_migrations_until_they_are_all_applied_then_no_more(
    api_client, migrations_unchecked, django_assert_max_num_queries
):
    assert api_client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}

    with django_assert_max_num_queries(1):  # SELECT 1 alone: "all applied" is remembered
        again = api_client.get("/readyz")

    assert again.status_code == 200
