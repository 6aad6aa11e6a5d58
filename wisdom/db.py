"""Database helpers that belong to no app."""

from django.db import connection


def connection_release() -> None:
    """Before a wait of unknown length, hold nothing another request needs: on PostgreSQL the connection goes back
    to psycopg's pool (or is closed, without one), so a slow upstream never holds one of the server's connections.

    A SQLite connection is a file handle of this thread that nothing else waits for, and outside a transaction
    (autocommit) it holds no lock and no read snapshot, so it stays open: reopening it cost more than the rest of
    a request's database work. Inside a transaction it must stay; callers that wait on the outside world keep
    transactions short.
    """
    if not connection.in_atomic_block and connection.vendor != "sqlite":
        connection.close()
