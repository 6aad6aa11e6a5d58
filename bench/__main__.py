"""`make bench` (`python -m bench`): start the agents double (`python -m agents_double`) and wisdom (gunicorn
with the committed gunicorn.conf.py) on PostgreSQL with Redis as the cache, run the scenarios against them,
and write docs/benchmarks.md, keeping the raw figures in bench/results/results.json (gitignored).

Needs PostgreSQL (the benchmark database is dropped and made anew), Redis, and wrk and hey (installed from
Debian's packages by bench/tools.py when missing). Options and their BENCH_* environment defaults:
`python -m bench --help`. `python -m bench --report` rewrites the report from the last run's results and
the current bench/NOTES.md without running anything. `python -m bench --only streams` runs section 2c alone
(thousands of streams beside the reference relay); its figures replace that section's in the last run's results.
"""

import dataclasses
import os
import sys

import requests

from bench import procs
from bench.commands import CommandLog
from bench.config import AGENTS_API_KEY, BenchConfig, build_parser, server_environment
from bench.database import BYSTANDER_EMAIL, BenchUser, create_bench_user, recreate_database
from bench.machine import describe_machine, server_settings
from bench.report import render_report, splice_section
from bench.report_streams import render_streams
from bench.results import RunResult, UnreadableResults, load_results, save_results
from bench.scenarios.allowlist import allowlist_cost
from bench.scenarios.cost import CostTarget, measure_cost, measure_scaling
from bench.scenarios.hashing import logins_and_redeems
from bench.scenarios.overhead import measure_overhead
from bench.scenarios.profiling import profile_proxied_get
from bench.scenarios.reset_timing import reset_timing
from bench.scenarios.slow_chats import slow_chats
from bench.scenarios.streaming import streaming
from bench.servers import GUNICORN_COMMAND, Server, prepare_sqlite, reference_server, wisdom_server
from bench.streams_section import WisdomVariant, stream_section
from bench.target import ENTITY, Target
from bench.tools import ensure_tools
from tests.helpers.constants import PASSWORD
from tests.helpers.double import running_double
from tests.helpers.processes import ROOT, free_port


def run(config: BenchConfig) -> RunResult:
    ensure_tools()
    server_env, user, commands = _prepare(config)
    allowlist = allowlist_cost()  # in-process, before any server competes for the cores

    log_dir = config.results_dir
    with running_double(api_key=AGENTS_API_KEY, log_path=log_dir / "double.log") as double:
        port = free_port()
        wisdom_url = f"http://127.0.0.1:{port}"
        server_env |= {"INTUNO_AGENTS_BASE_URL": double.url, "GUNICORN_BIND": f"127.0.0.1:{port}"}
        wisdom = procs.start(
            GUNICORN_COMMAND, env=server_env, log=log_dir / "wisdom.log", health_url=f"{wisdom_url}/healthz"
        )
        try:
            target = Target(
                wisdom_url=wisdom_url,
                wisdom_pid=wisdom.pid,
                double=double,
                user_id=user.id,
                user_email=user.email,
                access_token=user.access_token,
                commands=commands,
            )
            _create_entity(target)
            overhead = measure_overhead(target, seconds=config.seconds, repeats=config.repeats)
            cost, scaling = _cost(config, target, user=user, server_env=server_env)
            profile = profile_proxied_get(target, seconds=config.seconds, results_dir=config.results_dir)
            chats = slow_chats(target, chats=config.chats)
            streamed = streaming(target, streams=config.streams, seconds=config.stream_seconds)
            hashing = logins_and_redeems(target, seconds=config.seconds)
            resets = reset_timing(server_env, log_dir=log_dir, commands=commands, asks=config.reset_asks)
        finally:
            procs.stop(wisdom)
    try:
        streams = _streams(config, server_env=server_env, streamer=user, commands=commands)
    except Exception as e:  # the other sections' figures are still written; main() then fails
        print(f"python -m bench: section 2c (streams) failed: {e!r}", file=sys.stderr)
        streams = None
    return RunResult(
        machine=describe_machine(),
        settings=server_settings(server_env),
        gunicorn_command=" ".join(GUNICORN_COMMAND),
        overhead=overhead,
        cost=cost,
        scaling=scaling,
        profile=profile,
        slow_chats=chats,
        streaming=streamed,
        hashing=hashing,
        allowlist=allowlist,
        reset_timing=resets,
        commands=commands.lines(),
        streams=streams,
    )


def run_streams_only(config: BenchConfig, earlier: RunResult | None) -> RunResult:
    """Section 2c alone; the other sections as the last run left them (none if there was none)."""
    server_env, user, commands = _prepare(config)
    streams = _streams(config, server_env=server_env, streamer=user, commands=commands)
    if earlier is not None:
        kept = [line for line in earlier.commands if line not in commands.lines()]
        return dataclasses.replace(earlier, streams=streams, commands=(*kept, *commands.lines()))
    return RunResult(
        machine=describe_machine(),
        settings=server_settings(server_env),
        gunicorn_command=" ".join(GUNICORN_COMMAND),
        overhead=None, cost=None, scaling=None, profile=None, slow_chats=None, streaming=None, hashing=None,
        allowlist=None, reset_timing=None, commands=commands.lines(), streams=streams,
    )  # fmt: skip


def _prepare(config: BenchConfig) -> tuple[dict[str, str], BenchUser, CommandLog]:
    """A fresh benchmark database with the benchmark user; Django set up in this process."""
    config.results_dir.mkdir(parents=True, exist_ok=True)
    server_env = server_environment(database_url=config.database_url, cache_url=config.cache_url)
    os.environ.update(server_env)  # this process reads and writes the same database as the server
    recreate_database(config.database_url)

    import django

    django.setup()
    user = create_bench_user()
    commands = CommandLog()
    commands.hide(user.access_token, "<token>")
    commands.hide(AGENTS_API_KEY, "<key>")
    commands.hide(PASSWORD, "<password>")
    return server_env, user, commands


def _streams(config: BenchConfig, *, server_env: dict[str, str], streamer: BenchUser, commands: CommandLog):
    from django.conf import settings

    return stream_section(
        variants=tuple(WisdomVariant.parse(text) for text in config.stream_wisdom),
        server_env=server_env,
        signing_key=settings.SIMPLE_JWT["SIGNING_KEY"],
        streamer=streamer,
        bystander=create_bench_user(email=BYSTANDER_EMAIL, plan="free"),
        counts=list(config.stream_counts),
        stream_seconds=config.stream_length,
        ramp_seconds=config.stream_ramp,
        repeats=config.stream_repeats,
        log_dir=config.results_dir,
        commands=commands,
    )


def _cost(config: BenchConfig, target: Target, *, user, server_env: dict[str, str]):
    """wisdom's CPU per proxied GET beside the reference proxy's, on PostgreSQL (the running wisdom) and on a
    SQLite file (a second wisdom); then one worker against two."""
    from django.conf import settings

    log_dir = config.results_dir
    wisdom = Server(url=target.wisdom_url, pid=target.wisdom_pid)
    with reference_server(
        upstream=target.double.url, upstream_key=AGENTS_API_KEY, signing_key=settings.SIMPLE_JWT["SIGNING_KEY"],
        token_version=user.token_version, log=log_dir / "reference.log", commands=target.commands,
    ) as reference:  # fmt: skip

        def cost_target(database: str, server: Server) -> CostTarget:
            return CostTarget(
                database=database,
                wisdom=server,
                reference=reference,
                direct_url=target.direct_entity_url,
                direct_headers=target.direct_headers,
                entity_path=f"/personal/entities/{ENTITY}",
                auth_headers=target.auth_headers,
                commands=target.commands,
            )

        postgres = measure_cost(cost_target("PostgreSQL", wisdom), seconds=config.seconds, repeats=config.repeats)
        sqlite_env = {**server_env, "INTUNO_AGENTS_BASE_URL": target.double.url}
        sqlite_env["DATABASE_URL"] = prepare_sqlite(log_dir / "bench.sqlite3", env=sqlite_env, user=user)
        with wisdom_server(
            sqlite_env, log=log_dir / "wisdom-sqlite.log", commands=target.commands, label="wisdom on SQLite"
        ) as on_sqlite:
            sqlite = measure_cost(cost_target("SQLite", on_sqlite), seconds=config.seconds, repeats=config.repeats)
        one_worker_env = {**server_env, "INTUNO_AGENTS_BASE_URL": target.double.url, "WEB_CONCURRENCY": "1"}
        with wisdom_server(
            one_worker_env, log=log_dir / "wisdom-1-worker.log", commands=target.commands, label="wisdom, 1 worker"
        ) as one_worker:
            scaling = measure_scaling(
                one_worker,
                wisdom,
                target=cost_target("PostgreSQL", wisdom),
                seconds=config.seconds,
                repeats=config.repeats,
            )
    return (postgres, sqlite), scaling


def _create_entity(target: Target) -> None:
    """The entity every proxied GET and chat goes to, made through wisdom like a client would."""
    created = requests.post(
        f"{target.wisdom_url}/personal/entities",
        json={"name": ENTITY, "description": "benchmark"},
        headers=target.auth_headers,
        timeout=10,
    )
    created.raise_for_status()


def write_report(config: BenchConfig, results: RunResult) -> None:
    notes = config.notes_path.read_text() if config.notes_path.exists() else None
    config.report_path.parent.mkdir(parents=True, exist_ok=True)
    config.report_path.write_text(render_report(results, notes=notes))


def _write_streams_report(config: BenchConfig, results: RunResult) -> None:
    """With no whole run's results to render from, the section goes into the report as it stands, and the
    notes after the exact commands are bench/NOTES.md as it is now."""
    if results.overhead is not None or not config.report_path.exists():
        write_report(config, results)
        return
    report = splice_section(
        config.report_path.read_text(), render_streams(results.streams), before=("## 3. ", "## Exact commands")
    )
    commands_at = report.find("## Exact commands")
    notes_at = report.find("```\n\n", report.find("```", commands_at) + 3) if commands_at >= 0 else -1
    if notes_at >= 0 and config.notes_path.exists():
        report = report[: notes_at + 3] + "\n\n" + config.notes_path.read_text()
    config.report_path.write_text(report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = BenchConfig.from_args(args)
    report, raw = config.report_path.relative_to(ROOT), config.results_path.relative_to(ROOT)
    if args.report:
        try:
            results = load_results(config.results_path)
        except UnreadableResults as e:
            print(f"python -m bench --report: {e}", file=sys.stderr)
            return 1
        write_report(config, results)
        print(f"wrote {report} from {raw}")
        return 0
    if config.only == "streams":
        try:
            earlier = load_results(config.results_path)
        except UnreadableResults:
            earlier = None
        results = run_streams_only(config, earlier)
        save_results(results, config.results_path)
        _write_streams_report(config, results)
        print(f"wrote section 2c into {report} (raw: {raw})")
        return 0
    results = run(config)
    save_results(results, config.results_path)
    write_report(config, results)
    print(f"wrote {report} (raw: {raw})")
    return 0 if results.streams is not None else 1


if __name__ == "__main__":
    sys.exit(main())
