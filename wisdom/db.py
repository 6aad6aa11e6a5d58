"""Database helpers that belong to no app."""

import sqlite3

import psycopg
import psycopg_pool
from django.db import DEFAULT_DB_ALIAS, connection, connections

# SQLSTATEs of a connection that is gone or cannot be had yet: class 08 (connection exception), and the server
# shutting down, crashing or still starting (57P01, 57P02, 57P03).
_LOST_CONNECTION_CLASS = "08"
_SERVER_GOING_OR_COMING = frozenset({"57P01", "57P02", "57P03"})
# SQLite's lock wait (the connection's `timeout`) ran out: its one writer slot was not free in time.
_SQLITE_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def connection_release() -> None:
    """Before a wait of unknown length, hold nothing another request needs: on PostgreSQL the connection goes back
    to psycopg's pool (or is closed, without one), so a slow upstream never holds one of the server's connections.

    A SQLite connection is a file handle of this thread that nothing else waits for, and outside a transaction
    (autocommit) it holds no lock and no read snapshot, so it stays open: reopening it cost more than the rest of
    a request's database work. Inside a transaction it must stay; callers that wait on the outside world keep
    transactions short.

    The closed connection's wrapper goes too: each greenlet (or thread) has its own, and a stream would keep it for
    its whole life; a later query makes a new one.
    """
    if not connection.in_atomic_block and connection.vendor != "sqlite":
        connection.close()
        del connections[DEFAULT_DB_ALIAS]


def database_is_busy_or_lost(error: BaseException) -> bool:
    """True when a retry shortly may well succeed: no pooled connection in time, SQLite's lock wait ran out, or the
    connection was lost (or could not be made). Anything else (a missing table or column, a statement time-out, a
    full disk) is a fault that retrying does not fix.

    `error` is django.db's wrapper; the driver's own error is its cause.
    """
    cause = error.__cause__ or error
    if isinstance(cause, psycopg_pool.PoolTimeout):
        return True
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate
        # No SQLSTATE: libpq's own report (connection refused, closed, "server closed the connection unexpectedly")
        return state is None or state.startswith(_LOST_CONNECTION_CLASS) or state in _SERVER_GOING_OR_COMING
    if isinstance(cause, sqlite3.OperationalError):
        return getattr(cause, "sqlite_errorcode", None) in _SQLITE_BUSY
    return False
