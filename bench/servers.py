"""The servers the scenarios compare: wisdom under gunicorn (on PostgreSQL or on a SQLite file) and the
reference proxy (bench/reference.py) under uvicorn, both in front of the same agents double; for the stream
section, the reference stream relay (bench/stream_relay.py) and the async upstream (bench/stream_upstream.py)."""

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


def other_server_command(server: str, *, port: int, workers: int, threads: int) -> list[str]:
    """wisdom under another production WSGI server, for comparison with gunicorn (python -m bench.ab, BENCH_SERVER)."""
    bin_dir = Path(sys.executable).parent
    if server == "uwsgi":  # uWSGI's HTTP router (keep-alive, chunked when no length) before threaded workers
        return [
            str(bin_dir / "uwsgi"), "--http", f"127.0.0.1:{port}", "--http-keepalive", "--http-auto-chunked",
            "--module", "wisdom.wsgi:application",
            "--master", "--processes", str(workers), "--threads", str(threads), "--enable-threads",
            "--disable-logging", "--buffer-size", "8192", "--die-on-term", "--need-app",
        ]  # fmt: skip
    if server == "granian":
        return [
            str(bin_dir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", "wisdom.wsgi:application",
        ]  # fmt: skip
    raise ValueError(f"unknown server {server!r}")


@contextmanager
def wisdom_server(
    env: dict[str, str],
    *,
    log: Path,
    commands: CommandLog,
    label: str,
    cwd: Path = ROOT,
    config: str = "gunicorn.conf.py",
) -> Iterator[Server]:
    """gunicorn with the committed gunicorn.conf.py (or `config`) of the checkout at `cwd`, on a free port (or
    the server that BENCH_SERVER names, see other_server_command). Stopped with all its workers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*GUNICORN_COMMAND[:-2], str(config), GUNICORN_COMMAND[-1]]
    if env.get("BENCH_SERVER"):
        workers, threads = int(env.get("WEB_CONCURRENCY", "2")), int(env.get("GUNICORN_THREADS", "150"))
        command = other_server_command(env["BENCH_SERVER"], port=port, workers=workers, threads=threads)
    commands.record(label, command)
    process = procs.start(
        command, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, log=log, health_url=f"{url}/healthz", cwd=cwd
    )
    try:
        yield Server(url=url, pid=process.pid)
    finally:
        procs.stop_tree(process)


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


@contextmanager
def stream_upstream(*, api_key: str, deltas: int, interval: float, log: Path, commands: CommandLog) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.stream_upstream", "--port", str(port), "--api-key", api_key,
               "--deltas", str(deltas), "--interval", str(interval)]  # fmt: skip
    commands.record("async upstream for streams", command)
    process = procs.start(command, env={}, log=log, health_url=f"{url}/__health")
    try:
        yield Server(url=url, pid=process.pid)
    finally:
        procs.stop_tree(process)


@contextmanager
def stream_relay_server(
    *, upstream: str, upstream_key: str, signing_key: str, token_version: int, log: Path, commands: CommandLog
) -> Iterator[Server]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.stream_relay", "--port", str(port)]
    commands.record("reference stream relay", command)
    env = {
        "REFERENCE_UPSTREAM": upstream,
        "REFERENCE_UPSTREAM_KEY": upstream_key,
        "REFERENCE_SIGNING_KEY": signing_key,
        "REFERENCE_TOKEN_VERSION": str(token_version),
    }
    process = procs.start(command, env=env, log=log, health_url=f"{url}/healthz")
    try:
        yield Server(url=url, pid=process.pid)
    finally:
        procs.stop_tree(process)
