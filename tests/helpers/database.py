"""Whether this thread's database connection holds anything another request or process could need."""

import sqlite3


def database_is_free(connection) -> bool:
    """On PostgreSQL: no connection is held at all (it is back in the pool, or closed). On SQLite, where a connection
    is a file handle that nothing else waits for: another connection can take the write lock and checkpoint the whole
    write-ahead log at once, so this one holds no lock and no read snapshot (no transaction)."""
    if connection.vendor != "sqlite":
        return connection.connection is None
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0
    except sqlite3.OperationalError:  # "database is locked"
        return False
    finally:
        other.close()
