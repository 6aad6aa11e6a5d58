"""A/B of wisdom's CPU per request between checkouts or settings: how each lever in bench/NOTES.md was measured.

    python -m bench.ab --variant before=/tmp/wt-before --variant after=. [--variant nolog=.:LOG_LEVEL=WARNING]
                       [--database sqlite|postgres] [--paths entity,me,healthz,stream] [--rounds 5] [--seconds 5]
                       [--connections 1] [--reference]

Every variant runs at once (gunicorn with the checkout's own gunicorn.conf.py and code, WEB_CONCURRENCY=1), in
front of one agents double, on one database; each round measures every path on every variant back to back, the
variants' order rotating between rounds, so a drift of the VM's speed hits them alike. Medians and each round's
figure are printed. Needs PostgreSQL (the database is dropped and made anew), Redis, and wrk.
"""

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import requests

from bench.commands import CommandLog
from bench.config import AGENTS_API_KEY, DEFAULT_CACHE_URL, server_environment
from bench.database import create_bench_user, recreate_database
from bench.scenarios.cost import CostTarget, measure
from bench.servers import prepare_sqlite, reference_server, wisdom_server
from bench.target import ENTITY
from bench.tools import ensure_tools
from tests.helpers.double import running_double

PATHS = {
    "entity": f"/personal/entities/{ENTITY}",
    "me": "/auth/me",
    "healthz": "/healthz",
    "stream": f"/personal/entities/{ENTITY}/messages",  # a chat streamed whole: its start, a few events, its end
}
SCRIPTS = {"stream": Path(__file__).with_name("stream.lua")}


def _variant(text: str) -> tuple[str, Path, dict[str, str]]:
    name, _, rest = text.partition("=")
    where, _, settings = rest.partition(":")  # a value may hold ":" (a URL)
    env = dict(setting.split("=", 1) for setting in settings.split(",") if setting)
    return name, Path(where).resolve(), env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", type=_variant, required=True, help="NAME=DIR[:ENV=VALUE,...]")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/wisdom_bench_ab")
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL))
    parser.add_argument("--paths", default="entity,me,healthz")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reference", action="store_true", help="measure the reference proxy on the entity too")
    parser.add_argument("--profile", metavar="PATH", help="then py-spy the first variant's worker under load on PATH")
    args = parser.parse_args(argv)
    ensure_tools()

    env = server_environment(database_url=args.database_url, cache_url=args.cache_url)
    env["WEB_CONCURRENCY"] = str(args.workers)
    os.environ.update(env)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.conf import settings

    user = create_bench_user()
    scratch = Path(tempfile.mkdtemp(prefix="wisdom-ab-"))
    if args.database == "sqlite":
        env["DATABASE_URL"] = prepare_sqlite(scratch / "ab.sqlite3", env=env, user=user)
    commands = CommandLog()
    paths = args.paths.split(",")
    figures: dict[tuple[str, str], list[float]] = {}
    with ExitStack() as stack:
        double = stack.enter_context(running_double(api_key=AGENTS_API_KEY, log_path=scratch / "double.log"))
        env["INTUNO_AGENTS_BASE_URL"] = double.url
        servers = {}
        for name, where, overrides in args.variant:
            servers[name] = stack.enter_context(
                wisdom_server(
                    {**env, **overrides}, log=scratch / f"{name}.log", commands=commands, label=name, cwd=where
                )
            )
        if args.reference:
            servers["reference"] = stack.enter_context(
                reference_server(
                    upstream=double.url,
                    upstream_key=AGENTS_API_KEY,
                    signing_key=settings.SIMPLE_JWT["SIGNING_KEY"],
                    token_version=user.token_version,
                    log=scratch / "reference.log",
                    commands=commands,
                )
            )
        auth = {"Authorization": f"Bearer {user.access_token}"}
        first = next(iter(servers.values()))
        created = requests.post(
            f"{first.url}/personal/entities", json={"name": ENTITY, "description": "ab"}, headers=auth, timeout=10
        )
        created.raise_for_status()
        target = CostTarget(
            database=args.database,
            wisdom=first,
            reference=first,
            direct_url="",
            direct_headers={},
            entity_path=PATHS["entity"],
            auth_headers=auth,
            commands=commands,
        )
        names = list(servers)
        for server in servers.values():
            for path in {"entity", *paths}:
                measure(server, PATHS[path], target=target, label="warm-up", connections=4, threads=2, seconds=2,
                        script=SCRIPTS.get(path))  # fmt: skip
        for round_number in range(args.rounds):
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for path in paths:
                for name in order:
                    if name == "reference" and path != "entity":
                        continue
                    threads = 1 if args.connections == 1 else 2
                    result = measure(
                        servers[name],
                        PATHS[path],
                        target=target,
                        label=f"{name} {path}",
                        connections=args.connections,
                        threads=threads,
                        seconds=args.seconds,
                        script=SCRIPTS.get(path),
                    )
                    figures.setdefault((name, path), []).append(result.cpu_ms_per_request)
                    figures.setdefault((name, path + " p50"), []).append(result.p50_ms)
                    figures.setdefault((name, path + " rps"), []).append(result.rps)
            print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr, flush=True)
        if args.profile:
            _profile(first, args.profile, target=target, seconds=max(args.seconds, 5), scratch=scratch)
    print(f"{args.database}, c{args.connections}, {args.rounds} rounds of {args.seconds} s; CPU ms/request medians")
    for (name, path), values in figures.items():
        print(f"{name:>12} {path:>14}: {statistics.median(values):8.3f}  each {[round(v, 3) for v in values]}")
    return 0


def _profile(server, path_name: str, *, target: CostTarget, seconds: int, scratch: Path) -> None:
    import subprocess
    import time

    import psutil

    from bench.profile import top_functions
    from bench.tools import py_spy

    (worker,) = psutil.Process(server.pid).children()
    raw = scratch / "profile.raw.txt"
    spy = subprocess.Popen(
        [py_spy(), "record", "--pid", str(worker.pid), "--rate", "500", "--duration", str(seconds), "--format", "raw",
         "--output", str(raw), "--nonblocking", "--gil"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)
    measure(server, PATHS[path_name], target=target, label="profile", connections=1, threads=1, seconds=seconds - 2,
            script=SCRIPTS.get(path_name))  # fmt: skip
    spy.wait(timeout=seconds + 30)
    self_time, inclusive = top_functions([raw], limit=40)
    print("self time:")
    for share in self_time:
        print(f"  {share.percent:5.1f}  {share.function}")
    print("inclusive (over 2 %):")
    for share in inclusive:
        if share.percent >= 2:
            print(f"  {share.percent:5.1f}  {share.function}")


if __name__ == "__main__":
    sys.exit(main())
