"""What a run ran on: the machine, the tools, and the server settings that shape the figures."""

import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Machine:
    date: str
    cpu: str
    cores: int
    memory_gib: float
    python: str
    kernel: str
    postgres: str
    wrk: str


def python_speed_ms(*, rounds: int = 3) -> float:
    """CPU milliseconds of a fixed pure-Python workload (building and encoding 50,000 small dicts), the best of
    `rounds`: how fast this VM runs Python at the moment, which one run's latency figures follow."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for number in range(50_000):
            json.dumps({"id": number, "name": str(number), "tags": [number, number + 1]})
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def describe_machine() -> Machine:
    """Needs Django set up: the PostgreSQL version comes from the benchmark's database."""
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=_cpu_model(),
        cores=psutil.cpu_count(logical=True),
        memory_gib=round(psutil.virtual_memory().total / 2**30, 1),
        python=platform.python_version(),
        kernel=platform.release(),
        postgres=_postgres_version(),
        wrk=_wrk_version(),
    )


def _wrk_version() -> str:
    """`python -m bench --only streams` needs no wrk."""
    if shutil.which("wrk") is None:
        return "wrk (not installed)"
    return subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]


def server_settings(server_env: dict[str, str]) -> dict[str, str]:
    """The settings the report names, as wisdom resolves them (unset ones show their default)."""
    from django.conf import settings

    def from_env(name: str, default: str) -> str:
        return server_env.get(name) or os.environ.get(name) or f"{default} (default)"

    pool = settings.DATABASES["default"]["OPTIONS"].get("pool", {})
    return {
        "WEB_CONCURRENCY": from_env("WEB_CONCURRENCY", "2"),
        "GUNICORN_THREADS": from_env("GUNICORN_THREADS", "150"),
        "DATABASE_POOL_MAX_SIZE": str(pool.get("max_size")),
        "INTUNO_AGENTS_POOL_SIZE": str(settings.INTUNO_AGENTS_POOL_SIZE),
        "PASSWORD_HASHER": settings.PASSWORD_HASHERS[0],
        "LOG_FORMAT": server_env["LOG_FORMAT"],
        "CACHE": "Redis",
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]
