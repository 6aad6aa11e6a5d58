"""`make bench`: start the agents double and wisdom (gunicorn, gunicorn.conf.py) on PostgreSQL, drive
them with wrk, and write docs/benchmarks.md.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/wisdom_bench, dropped and
made anew), BENCH_SECONDS (default 10 per wrk run), BENCH_REPEATS (default 3 rounds of the overhead
runs, medians reported), BENCH_CHATS (default 150).
"""

import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from bench import procs
from bench.profile import top_functions
from bench.tools import ensure_tools, py_spy
from bench.wrk import WrkResult, run_wrk

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
REPORT = ROOT / "docs" / "benchmarks.md"
NOTES = ROOT / "bench" / "NOTES.md"

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wisdom_bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CHATS = int(os.environ.get("BENCH_CHATS", "150"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
PASSWORD = "a-long-and-unusual-passphrase"
AGENTS_KEY = "bench-agents-key"
ENTITY = "bench-entity"

WISDOM_ENV = {
    "DJANGO_SETTINGS_MODULE": "wisdom.settings",
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": DATABASE_URL,
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "CACHE_KEY_PREFIX": f"wisdom-bench-{uuid.uuid4().hex[:8]}",
    "AGENTS_SERVICE_API_KEY": "bench-service-key",
    "INTUNO_AGENTS_API_KEY": AGENTS_KEY,
    "THROTTLE_RATE_LOGIN": "1000000/min",
    "THROTTLE_RATE_INVITES": "1000000/min",
    "LOG_FORMAT": "json",
    "PERSONAL_ENTERPRISE_TIER_ENTITY_CAP": "",
}
commands: list[str] = []


def main() -> None:
    ensure_tools()
    RESULTS.mkdir(parents=True, exist_ok=True)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(WISDOM_ENV)
    _fresh_database()

    import django

    django.setup()
    from tests.helpers.double import DoubleProcess

    double = DoubleProcess(api_key=AGENTS_KEY, log_path=RESULTS / "double.log").start()
    wisdom_port = _free_port()
    wisdom_url = f"http://127.0.0.1:{wisdom_port}"
    server_env = {**WISDOM_ENV, "INTUNO_AGENTS_BASE_URL": double.url, "GUNICORN_BIND": f"127.0.0.1:{wisdom_port}"}
    gunicorn_command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"]
    wisdom = procs.start(
        gunicorn_command, env=server_env, log=RESULTS / "wisdom.log", health_url=f"{wisdom_url}/healthz"
    )
    try:
        results = {
            "machine": _machine(),
            "settings": _server_settings(server_env),
            "gunicorn_command": " ".join(gunicorn_command),
        }
        user, token = _user_and_token()
        created = requests.post(
            f"{wisdom_url}/personal/entities",
            json={"name": ENTITY, "description": "benchmark"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        created.raise_for_status()

        results["overhead"] = _overhead(wisdom_url, double, wisdom.pid, user, token)
        results["profile"] = _profile(wisdom_url, wisdom.pid, token)
        results["slow_chats"] = _slow_chats(wisdom_url, double, [wisdom.pid, double.process.pid], token)
        results["logins"] = _logins(wisdom_url, wisdom.pid, user.email)
        results["redeems"] = _redeems(wisdom_url, wisdom.pid)
        results["commands"] = commands
        (RESULTS / "results.json").write_text(json.dumps(results, indent=2, default=str))
        REPORT.write_text(_report(results))
        print(f"wrote {REPORT.relative_to(ROOT)} (raw: {(RESULTS / 'results.json').relative_to(ROOT)})")
    finally:
        procs.stop(wisdom)
        double.stop()


# --- set-up ---------------------------------------------------------------------------------


def _fresh_database() -> None:
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)


def _user_and_token():
    from django.contrib.auth.hashers import make_password

    from accounts.models import Plan, User
    from accounts.services import tokens_for

    user = User.objects.create(
        email="bench@example.com", password=make_password(PASSWORD), first_name="Bench", plan=Plan.ENTERPRISE
    )
    return user, tokens_for(user=user)["access_token"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _machine() -> dict:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "postgres": _postgres_version(),
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0],
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


def _server_settings(env: dict) -> dict:
    from django.conf import settings

    return {
        "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY") or os.environ.get("WEB_CONCURRENCY", "2 (default)"),
        "GUNICORN_THREADS": env.get("GUNICORN_THREADS") or os.environ.get("GUNICORN_THREADS", "150 (default)"),
        "DATABASE_POOL_MAX_SIZE": settings.DATABASES["default"]["OPTIONS"].get("pool", {}).get("max_size"),
        "INTUNO_AGENTS_POOL_SIZE": settings.INTUNO_AGENTS_POOL_SIZE,
        "PASSWORD_HASHER": settings.PASSWORD_HASHERS[0],
        "LOG_FORMAT": env["LOG_FORMAT"],
        "CACHE": "Redis",
    }


# --- scenarios ------------------------------------------------------------------------------


def _wrk(url: str, label: str, **kwargs) -> WrkResult:
    headers = kwargs.get("headers") or {}
    shown = " ".join(f"-H '{k}: {_mask(k, v)}'" for k, v in headers.items())
    script = f" -s {kwargs['script'].relative_to(ROOT)}" if kwargs.get("script") else ""
    shape = f"-t{kwargs['threads']} -c{kwargs['connections']} -d{kwargs['seconds']}s"
    line = f"{label}: wrk {shape} --latency {shown}{script} {url}"
    if line not in commands:
        commands.append(line)
    return run_wrk(url, **kwargs)


def _mask(name: str, value: str) -> str:
    return "<token>" if name == "Authorization" else "<key>" if name == "X-API-Key" else value


def _overhead(wisdom_url: str, double, wisdom_pid: int, user, token: str) -> dict:
    """Through wisdom and straight to the double, alternating, REPEATS rounds each; medians reported.

    This machine is a VM whose CPU speed drifts between runs, so one run alone can mislead by 30 %.
    """
    through = f"{wisdom_url}/personal/entities/{ENTITY}"
    direct = f"{double.url}/entities/{ENTITY}"
    wisdom_headers = {"Authorization": f"Bearer {token}"}
    direct_headers = {"X-API-Key": AGENTS_KEY, "X-User-Id": str(user.pk)}
    _wrk(through, "warm-up", connections=8, threads=2, seconds=3, headers=wisdom_headers)

    # A yardstick for this VM's speed right now: /healthz does no I/O, so its cost moves only with the machine.
    cpu_before = procs.cpu_seconds(wisdom_pid)
    health = _wrk(f"{wisdom_url}/healthz", "yardstick", connections=1, threads=1, seconds=SECONDS)
    rows: dict = {"yardstick_cpu_ms": round((procs.cpu_seconds(wisdom_pid) - cpu_before) * 1000 / health.requests, 3)}
    for connections, threads in ((1, 1), (32, 2)):
        rounds = []
        for _ in range(REPEATS):
            before_conns = double.stats()["connections"]
            cpu_before = procs.cpu_seconds(wisdom_pid)
            via = _wrk(
                through, f"wisdom c{connections}", connections=connections, threads=threads, seconds=SECONDS,
                headers=wisdom_headers,
            )  # fmt: skip
            cpu = procs.cpu_seconds(wisdom_pid) - cpu_before
            opened = double.stats()["connections"] - before_conns
            double.clear_received()  # the double keeps what it received; the benchmark does not need it
            straight = _wrk(
                direct, f"double c{connections}", connections=connections, threads=threads, seconds=SECONDS,
                headers=direct_headers,
            )  # fmt: skip
            double.clear_received()
            rounds.append(
                {
                    "wisdom": via.__dict__ | {"raw": None},
                    "direct": straight.__dict__ | {"raw": None},
                    "rps_ratio": via.rps / straight.rps,
                    "added_p50_ms": via.p50_ms - straight.p50_ms,
                    "cpu_ms_per_request": cpu * 1000 / max(via.requests, 1),
                    "upstream_connections_opened": opened,
                    "connections_per_1000": opened * 1000 / max(via.requests, 1),
                }
            )
        rows[connections] = _median_round(rounds)
    return rows


def _median_round(rounds: list[dict]) -> dict:
    def median(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    row = {
        key: median([r[key] for r in rounds])
        for key in ("rps_ratio", "added_p50_ms", "cpu_ms_per_request", "connections_per_1000")
    }
    row["upstream_connections_opened"] = sum(r["upstream_connections_opened"] for r in rounds)
    row["rounds"] = len(rounds)
    row["added_p50_ms_each"] = [round(r["added_p50_ms"], 3) for r in rounds]
    row["cpu_ms_per_request_each"] = [round(r["cpu_ms_per_request"], 3) for r in rounds]
    for path in ("wisdom", "direct"):
        row[path] = {key: median([r[path][key] for r in rounds]) for key in ("rps", "p50_ms", "p99_ms", "requests")}
    return row


def _profile(wisdom_url: str, wisdom_pid: int, token: str) -> dict:
    """CPU profile (samples only where a thread holds the GIL) of every worker under proxied GETs."""
    workers = [child.pid for child in psutil.Process(wisdom_pid).children()]
    raws = [RESULTS / f"profile-{pid}.raw.txt" for pid in workers]
    spies = []
    for pid, raw in zip(workers, raws, strict=True):
        command = [py_spy(), "record", "--pid", str(pid), "--gil", "--rate", "250", "--duration", str(SECONDS),
                   "--format", "raw", "--output", str(raw), "--nonblocking"]  # fmt: skip
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    commands.append(f"profile: py-spy record --pid <worker> --gil --rate 250 --duration {SECONDS} --format raw")
    time.sleep(1.0)
    run_wrk(
        f"{wisdom_url}/personal/entities/{ENTITY}", connections=4, threads=2, seconds=max(SECONDS - 2, 1),
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    errors = [spy.communicate(timeout=SECONDS + 30)[1].decode(errors="replace") for spy in spies]
    present = [raw for raw in raws if raw.exists()]
    if not present:
        return {"error": " | ".join(e.strip()[-300:] for e in errors)}
    self_time, inclusive = top_functions(present)
    return {"self": self_time, "inclusive": [row for row in inclusive if _is_interesting(row[0])]}


LAYERS = (
    "RequestContextMiddleware.__call__",
    "APIView.dispatch",
    "JWTAuthentication.authenticate",
    "JWTAuthentication.get_validated_token",
    "JWTAuthentication.get_user",
    "SQLCompiler.execute_sql",
    "EntityViewSet.initial",
    "entity_get",
    "Session.request",
    "HTTPConnectionPool.urlopen",
    "APIView.finalize_response",
    "JSONRenderer.render",
    "ThreadWorker.handle",
    "Response.write",
    "RequestContextMiddleware._log",
)


def _is_interesting(frame: str) -> bool:
    return any(frame.startswith(f"{layer} (") for layer in LAYERS)


def _slow_chats(wisdom_url: str, double, pids: list[int], token: str) -> dict:
    double.switch(latency_ms=2000, latency_match="POST .*/chat$")
    chats_command = [
        "hey", "-n", str(CHATS), "-c", str(CHATS), "-t", "30", "-m", "POST", "-T", "application/json",
        "-d", '{"content": "benchmark"}', "-H", f"Authorization: Bearer {token}",
        f"{wisdom_url}/personal/entities/{ENTITY}/messages",
    ]  # fmt: skip
    commands.append("slow chats: " + " ".join(shlex.quote(c) for c in chats_command).replace(token, "<token>"))
    list_result: dict = {}

    def list_load() -> None:
        time.sleep(0.3)  # once the chats are in flight
        list_result["wrk"] = _wrk(
            f"{wisdom_url}/personal/entities", "list during chats", connections=4, threads=1, seconds=2,
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    lister = threading.Thread(target=list_load)
    with procs.peak_rss(pids) as memory:
        lister.start()
        out = subprocess.run(chats_command, capture_output=True, text=True, check=True, timeout=120).stdout
        lister.join()
    double.clear_switches()
    statuses = {int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)}
    listing: WrkResult = list_result["wrk"]
    return {
        "chats": CHATS,
        "created_201": statuses.get(201, 0),
        "other_statuses": {code: n for code, n in statuses.items() if code != 201},
        "wall_seconds": float(re.search(r"Total:\s+([\d.]+) secs", out).group(1)),
        "chat_p50_s": float(re.search(r"50%+ in ([\d.]+) secs", out).group(1)),
        "chat_p99_s": float(re.search(r"99%+ in ([\d.]+) secs", out).group(1)),
        "list_p50_ms": listing.p50_ms,
        "list_p99_ms": listing.p99_ms,
        "list_requests": listing.requests,
        "list_non_2xx": listing.non_2xx,
        "peak_rss_mib": round(memory["peak"] / 2**20, 1),
        "max_in_flight_upstream": double.stats().get("max_in_flight"),
    }


def _logins(wisdom_url: str, wisdom_pid: int, email: str) -> dict:
    cpu_before = procs.cpu_seconds(wisdom_pid)
    result = _wrk_with_args(f"{wisdom_url}/auth/login", "logins", ROOT / "bench" / "login.lua", [email, PASSWORD])
    cpu = procs.cpu_seconds(wisdom_pid) - cpu_before
    return _per_call(result, cpu) | {"hasher": _hasher_parameters()}


def _redeems(wisdom_url: str, wisdom_pid: int) -> dict:
    from invites.services import invite_create

    invite = invite_create(note="benchmark", max_uses=10_000)
    cpu_before = procs.cpu_seconds(wisdom_pid)
    result = _wrk_with_args(
        f"{wisdom_url}/invites/{invite.token}/redeem",
        "redeems",
        ROOT / "bench" / "redeem.lua",
        [uuid.uuid4().hex[:8], PASSWORD],
    )
    cpu = procs.cpu_seconds(wisdom_pid) - cpu_before
    return _per_call(result, cpu)


def _wrk_with_args(url: str, label: str, script: Path, args: list[str]) -> WrkResult:
    command = ["wrk", "-t2", "-c4", f"-d{SECONDS}s", "--timeout=10s", "--latency", "-s", str(script), url, "--", *args]
    shown = " ".join(shlex.quote(c) for c in command[: -len(args) - 1]).replace(str(ROOT) + "/", "")
    commands.append(f"{label}: {shown} -- <args>")
    from bench.wrk import parse

    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=SECONDS + 60).stdout
    return parse(out)


def _per_call(result: WrkResult, cpu_seconds: float) -> dict:
    return {
        "requests": result.requests,
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "non_2xx": result.non_2xx,
        "cpu_ms_per_call": round(cpu_seconds * 1000 / max(result.requests, 1), 1),
    }


def _hasher_parameters() -> str:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher("default")
    params = {
        k: getattr(hasher, k) for k in ("time_cost", "memory_cost", "parallelism", "iterations") if hasattr(hasher, k)
    }
    return f"{hasher.algorithm} " + ", ".join(f"{k}={v}" for k, v in params.items())


# --- report ---------------------------------------------------------------------------------


def _report(r: dict) -> str:
    m, o, c, lg, rd = r["machine"], r["overhead"], r["slow_chats"], r["logins"], r["redeems"]
    lines = [
        "# wisdom benchmarks",
        "",
        f"Written by `make bench` on {m['date']}. Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB,",
        f"Linux {m['kernel']}, Python {m['python']}, PostgreSQL {m['postgres']}, {m['wrk']}.",
        "wisdom runs under its committed `gunicorn.conf.py` (`" + r["gunicorn_command"] + "`) on PostgreSQL with",
        "Redis as the cache and JSON logs, in front of the agents double (`python -m agents_double`), all on",
        "this one machine, sharing its cores with the load generator.",
        "",
        "Server settings: " + ", ".join(f"`{k}={v}`" for k, v in r["settings"].items()) + ".",
        "",
        "## 1. Proxy overhead: `GET /personal/entities/{name}` through wisdom vs straight to the double",
        "",
        f"Each row is the median of {REPEATS} rounds; a round runs wrk through wisdom, then straight to the",
        "double, for the same time. Upstream connections are what the double counted as opened by wisdom.",
        "",
        "| concurrency | path | requests/s | p50 ms | p99 ms | requests |",
        "|---|---|---|---|---|---|",
    ]
    for conc, row in _concurrencies(o):
        for path in ("wisdom", "direct"):
            x = row[path]
            lines.append(
                f"| {conc} | {'through wisdom' if path == 'wisdom' else 'straight to double'} | {x['rps']:.0f} | "
                f"{x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['requests']} |"
            )
    lines += [
        "",
        "| concurrency | rps ratio (wisdom/direct) | added p50 ms | wisdom CPU ms/request | "
        "upstream TCP connections opened | per 1,000 requests |",
        "|---|---|---|---|---|---|",
    ]
    for conc, row in _concurrencies(o):
        lines.append(
            f"| {conc} | {row['rps_ratio']} | {row['added_p50_ms']} | {row['cpu_ms_per_request']} | "
            f"{row['upstream_connections_opened']} | {row['connections_per_1000']} |"
        )
    for conc, row in _concurrencies(o):
        lines.append(
            f"Concurrency {conc}, per round: added p50 {row['added_p50_ms_each']} ms, "
            f"CPU {row['cpu_ms_per_request_each']} ms/request."
        )
    lines += [
        "",
        f"Machine-speed yardstick of this run: `/healthz` (no I/O) cost {o['yardstick_cpu_ms']} ms of CPU per request "
        "(0.71 ms in a quiet phase of this VM on 2026-11-22): compare it before comparing two runs.",
    ]
    one = o[1] if 1 in o else o["1"]
    chats_ok = c["wall_seconds"] < 6 and c["created_201"] == c["chats"]
    pool = r["settings"]["INTUNO_AGENTS_POOL_SIZE"]
    lines += [
        "",
        f"Targets (medians; best round in brackets): added p50 at concurrency 1 <= 2 ms (measured "
        f"{one['added_p50_ms']} ms [{min(one['added_p50_ms_each'])}]: "
        f"{_verdict(one['added_p50_ms'] <= 2)}); CPU <= 2 ms per proxied request (measured "
        f"{one['cpu_ms_per_request']} ms [{min(one['cpu_ms_per_request_each'])}]: "
        f"{_verdict(one['cpu_ms_per_request'] <= 2)}); upstream connections per "
        f"1,000 requests <= the pool size {pool} per process (measured {one['connections_per_1000']}: "
        f"{_verdict(one['connections_per_1000'] <= pool)}).",
        "",
        f"## 2. Slow chats: {c['chats']} simultaneous `POST .../messages`, the double taking 2 s per chat",
        "",
        f"- {c['created_201']} of {c['chats']} answered 201 "
        f"(hey: chat p50 {c['chat_p50_s']} s, p99 {c['chat_p99_s']} s)"
        + (f" (others: {c['other_statuses']})" if c["other_statuses"] else "")
        + f"; wall time {c['wall_seconds']} s (target: all 201 in < 6 s: {_verdict(chats_ok)}).",
        f"- Meanwhile `GET /personal/entities` (wrk, 4 connections, 2 s): p50 {c['list_p50_ms']:.2f} ms, "
        f"p99 {c['list_p99_ms']:.2f} ms over {c['list_requests']} requests, {c['list_non_2xx']} non-2xx "
        f"(target p99 <= 100 ms: {_verdict(c['list_p99_ms'] <= 100)}).",
        f"- Peak resident memory of all server processes (gunicorn master and workers, and the double): "
        f"{c['peak_rss_mib']} MiB. Chats in flight upstream at once: {c['max_in_flight_upstream']}.",
        "",
        "## 3. Logins and redeems with the configured password hasher",
        "",
        f"Hasher: {lg['hasher']}.",
        "",
        "| call | requests/s | p50 ms | p99 ms | requests | non-2xx | wisdom CPU ms/call |",
        "|---|---|---|---|---|---|---|",
        f"| `POST /auth/login` | {lg['rps']:.1f} | {lg['p50_ms']:.1f} | {lg['p99_ms']:.1f} | {lg['requests']} | "
        f"{lg['non_2xx']} | {lg['cpu_ms_per_call']} |",
        f"| `POST /invites/{{token}}/redeem` | {rd['rps']:.1f} | {rd['p50_ms']:.1f} | {rd['p99_ms']:.1f} | "
        f"{rd['requests']} | {rd['non_2xx']} | {rd['cpu_ms_per_call']} |",
        "",
        "## Profile of the proxied GET (py-spy, all workers)",
        "",
    ]
    prof = r["profile"]
    if "error" in prof:
        lines.append(f"py-spy could not run here: `{prof['error'].strip()}`")
    else:
        lines += ["Share of busy samples, by function (self time):", "", "| function | self % |", "|---|---|"]
        lines += [f"| `{name}` | {share:.1f} |" for name, share in prof["self"]]
        lines += ["", "Inclusive time of the layers of one request:", "", "| function | inclusive % |", "|---|---|"]
        lines += [f"| `{name}` | {share:.1f} |" for name, share in prof["inclusive"]]
    lines += ["", "## Exact commands", "", "```"] + r["commands"] + ["```", ""]
    if NOTES.exists():
        lines += [NOTES.read_text()]
    return "\n".join(lines)


def _concurrencies(overhead: dict) -> list[tuple]:
    return [(key, row) for key, row in overhead.items() if isinstance(row, dict)]


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rewrite_report() -> None:
    """`python -m bench --report`: the report again from the last run's results and the current notes."""
    results = json.loads((RESULTS / "results.json").read_text())
    results["overhead"] = {int(k) if k.isdigit() else k: v for k, v in results["overhead"].items()}
    REPORT.write_text(_report(results))
    print(f"wrote {REPORT.relative_to(ROOT)} from {(RESULTS / 'results.json').relative_to(ROOT)}")


if __name__ == "__main__":
    rewrite_report() if sys.argv[1:] == ["--report"] else main()
