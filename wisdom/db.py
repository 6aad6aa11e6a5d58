"""Database helpers that belong to no app."""

from django.db import connection


def connection_release() -> None:
    """Hand the connection back (to psycopg's pool on PostgreSQL) before a wait of unknown length.

    Inside a transaction it must stay; callers that wait on the outside world keep transactions short.
    """
    if not connection.in_atomic_block:
        connection.close()
