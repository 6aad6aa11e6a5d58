"""The servers the cost scenarios compare: wisdom under gunicorn (on PostgreSQL or on a SQLite file) and the
reference proxy (bench/reference.py) under uvicorn, both in front of the same agents double."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.commands import CommandLog
from bench.database import BenchUser
from tests.helpers.processes import ROOT, free_port

GUNICORN_COMMAND = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"]
# uvicorn as it is run for speed: uvloop and httptools, no access log, one process.
REFERENCE_COMMAND = [
    sys.executable, "-m", "uvicorn", "bench.reference:app", "--loop", "uvloop", "--http", "httptools",
    "--no-access-log", "--log-level", "warning", "--lifespan", "on",
]  # fmt: skip


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the root process; its CPU includes its children's


@contextmanager
def wisdom_server(
    env: dict[str, str], *, log: Path, commands: CommandLog, label: str, cwd: Path = ROOT
) -> Iterator[Server]:
    """gunicorn with the committed gunicorn.conf.py of the checkout at `cwd`, on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    commands.record(label, GUNICORN_COMMAND)
    process = procs.start(
        GUNICORN_COMMAND, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, log=log, health_url=f"{url}/healthz",
        cwd=cwd,
    )  # fmt: skip
    try:
        yield Server(url=url, pid=process.pid)
    finally:
        procs.stop(process)


@contextmanager
def reference_server(
    *, upstream: str, upstream_key: str, signing_key: str, token_version: int, log: Path, commands: CommandLog
) -> Iterator[Server]:
    from personal.serializers import ENTITY_FIELDS

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*REFERENCE_COMMAND, "--host", "127.0.0.1", "--port", str(port)]
    commands.record("reference proxy", command)
    env = {
        "REFERENCE_UPSTREAM": upstream,
        "REFERENCE_UPSTREAM_KEY": upstream_key,
        "REFERENCE_SIGNING_KEY": signing_key,
        "REFERENCE_TOKEN_VERSION": str(token_version),
        "REFERENCE_FIELDS": ",".join(ENTITY_FIELDS),
    }
    process = procs.start(command, env=env, log=log, health_url=f"{url}/healthz")
    try:
        yield Server(url=url, pid=process.pid)
    finally:
        procs.stop(process)


def prepare_sqlite(path: Path, *, env: dict[str, str], user: BenchUser) -> str:
    """A fresh, migrated SQLite file holding the benchmark user (same id, password and token version), so the
    same token works against a wisdom running on it; its DATABASE_URL."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    sqlite_env = {**env, "DATABASE_URL": url}
    run = {"cwd": ROOT, "env": sqlite_env, "check": True, "timeout": 300}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], **run)
    copy = (
        "import django; django.setup()\n"
        "from accounts.models import User\n"
        f"User.objects.create(id={user.id!r}, email={user.email!r}, password={user.password_hash!r}, "
        f"first_name='Bench', plan={user.plan!r}, token_version={user.token_version!r})\n"
    )
    subprocess.run([sys.executable, "-c", copy], **run)
    return url
