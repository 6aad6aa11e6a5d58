"""The database pool, sampled: connections in use, waits and time-outs per process."""

import logging
import threading
import time
from typing import Any

from django.db.backends.signals import connection_created

from wisdom.metrics.definitions import (
    POOL_CONNECTIONS,
    POOL_MAX,
    POOL_REQUESTS,
    POOL_SAMPLE_SECONDS,
    POOL_TIMEOUTS,
    POOL_WAIT_SECONDS,
    POOL_WAITING,
    POOL_WAITS,
)

logger = logging.getLogger(__name__)


_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


def _connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    pool = getattr(connection, "pool", None)
    if pool is None or _pools.get(connection.alias) is pool:
        return
    with _pools_lock:
        first = not _pools
        _pools[connection.alias] = pool
    if first:
        threading.Thread(target=_sample_pools_forever, name="wisdom-metrics-pool", daemon=True).start()


connection_created.connect(_connection_created, dispatch_uid="wisdom.metrics.pools")


def _sample_pools_forever() -> None:
    while True:
        try:
            sample_pools()
        except Exception:  # a sampler must never take its process down
            logger.exception("metrics: sampling the database pool failed")
        time.sleep(POOL_SAMPLE_SECONDS)


def sample_pools() -> None:
    """This process's pools now: connections in use and idle, waiters, and the counters since the last sample."""
    with _pools_lock:
        pools = list(_pools.values())
    in_use = idle = most = waiting = 0
    for pool in pools:
        stats = pool.pop_stats()  # gauges as they are; counters since the last call, then reset
        in_use += stats.get("pool_size", 0) - stats.get("pool_available", 0)
        idle += stats.get("pool_available", 0)
        most += stats.get("pool_max", 0)
        waiting += stats.get("requests_waiting", 0)
        POOL_REQUESTS.inc(stats.get("requests_num", 0))
        POOL_WAITS.inc(stats.get("requests_queued", 0))
        POOL_WAIT_SECONDS.inc(stats.get("requests_wait_ms", 0) / 1000)
        POOL_TIMEOUTS.inc(stats.get("requests_errors", 0))
    if pools:
        POOL_CONNECTIONS.labels("in_use").set(in_use)
        POOL_CONNECTIONS.labels("idle").set(idle)
        POOL_MAX.set(most)
        POOL_WAITING.set(waiting)
