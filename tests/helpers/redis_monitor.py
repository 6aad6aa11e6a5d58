"""What clients send Redis meanwhile, as MONITOR reports it."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def commands_on(prefix: str, *, url: str = REDIS_URL) -> Iterator[list[str]]:
    """Every command a client sends on a key under `prefix` meanwhile, as MONITOR reports it (not those a script
    runs inside Redis, which MONITOR reports too)."""
    seen: list[str] = []
    end_marker = f"{prefix}:end-{uuid.uuid4().hex}"
    raw = redis.Redis.from_url(url)
    started = threading.Event()

    def watch() -> None:
        with raw.monitor() as monitor:
            started.set()
            for command in monitor.listen():
                line = command["command"]
                if end_marker in line:
                    return
                if prefix in line and command.get("client_type") != "lua":
                    seen.append(line)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert started.wait(5)  # set once Redis has answered MONITOR
    yield seen
    redis.Redis.from_url(url).get(end_marker)
    watcher.join(5)
    assert not watcher.is_alive()
