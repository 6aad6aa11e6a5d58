"""Section 2c of docs/benchmarks.md: thousands of streams, wisdom beside the reference stream relay."""

import os

from bench.scenarios.streams import PAPER_STREAMS, PROBE_EVERY_SECONDS, PROBE_TIMEOUT_SECONDS, StreamRun, StreamsResult

REFERENCE = "relay"
FIRST_DELTA_P99_TARGET_RATIO = 2
CPU_PER_EVENT_TARGET_RATIO = 3
MEMORY_PER_STREAM_TARGET_KIB = 64
HEALTH_P99_TARGET_MS = 250
ME_P99_TARGET_MS = 500


def render_streams(result: StreamsResult) -> str:
    r = result
    lines = [
        "## 2c. Thousands of streams: wisdom beside an async reference relay",
        "",
        f"Run on {r.date}. Each stream is a `POST /personal/entities/{{name}}/messages` with `Accept: "
        f"text/event-stream` on its own connection, {r.stream_seconds} s long (the async upstream "
        "`bench/stream_upstream.py` writes a `delta` at once, one a second after it, then `done`); the streams start "
        f"evenly over {r.ramp_seconds} s and each is given {r.deadline_seconds} s in all. Meanwhile another user "
        f"probes `/auth/me`, `/healthz` and `/readyz` in turn, one probe every {PROBE_EVERY_SECONDS} s on a fresh "
        f"connection ({PROBE_TIMEOUT_SECONDS} s time-out). First delta: from sending the request to having parsed "
        "the first `delta`. Memory: the server's processes' proportional set size (PSS: a page shared by forked "
        "workers counted once), warmed up and idle, then at the peak; per open stream: the growth divided by the "
        "most streams open at once. CPU per event: the server's user + system CPU over the load (requests, "
        "authentication and probes included) divided by the events the clients received. The load generator "
        "(`bench/stream_load.py`, asyncio and aiohttp in a process of its own) and the upstream share the "
        f"machine's cores with the server; the cores columns are CPU seconds over the load's wall time, and "
        "`machine busy` is every process's use of every core meanwhile (other work on the machine included). "
        f"Load average before the section: {_load(r.load_average_before)}, after it: "
        f"{_load(r.runs[-1].load_average) if r.runs else '-'}. Before each run a fixed pure-Python workload "
        "(`bench/machine.py`, `python_speed_ms`) is timed: the `Python probe` column, the VM's speed at that moment.",
        "",
        *(f"- {label}: {description}" for label, description in r.servers.items()),
        "",
        "| streams | server | ended in `done` | most open at once | first delta p50 / p99 s | `/auth/me` p99 ms | "
        "`/healthz` p99 ms | `/readyz` p99 ms | probes failed | PSS idle → peak MiB | KiB per open stream | "
        "CPU ms per event | server's cores | load generator's cores | machine busy % | OS threads at peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(_row(run) for run in r.runs),
    ]
    others = [
        f"{run.streams:,} through {run.server}: "
        + ", ".join(f"{count:,} {ending}" for ending, count in sorted(run.other_endings.items()))
        for run in r.runs
        if run.other_endings
    ]
    if others:
        lines += ["", "Streams that did not end in `done`: " + "; ".join(others) + "."]
    lines += ["", *_targets(r), "", *_paper(r)]
    return "\n".join(lines)


def _row(run: StreamRun) -> str:
    me, health, ready = run.probe("/auth/me"), run.probe("/healthz"), run.probe("/readyz")
    failed = me.failed + health.failed + ready.failed
    probes = me.probes + health.probes + ready.probes
    return (
        f"| {_count(run)} | {run.server} | {run.done:,} | {run.most_open:,} | {_s(run.first_delta_p50_s)} / "
        f"{_s(run.first_delta_p99_s)} | {_ms(me.p99_ms)} | {_ms(health.p99_ms)} | {_ms(ready.p99_ms)} | "
        f"{failed} of {probes} | {run.idle_pss_mib} → {run.peak_pss_mib} | {run.kib_per_open_stream} | "
        f"{run.cpu_ms_per_event} | {run.server_cores} | {run.load_generator_cores} | {run.machine_busy_percent} | "
        f"{run.peak_threads:,} |"
    )


def _targets(r: StreamsResult) -> list[str]:
    lines = [
        f"Targets: all end in `done`; first-delta p99 within {FIRST_DELTA_P99_TARGET_RATIO}x the relay's; `/healthz` "
        f"and `/readyz` p99 <= {HEALTH_P99_TARGET_MS} ms and `/auth/me` p99 <= {ME_P99_TARGET_MS} ms, none failing; "
        f"<= {MEMORY_PER_STREAM_TARGET_KIB} KiB per open stream; CPU per event within {CPU_PER_EVENT_TARGET_RATIO}x "
        "the relay's.",
        "",
        "| streams | server | all `done` | first-delta p99 / relay's | probes | KiB per stream | CPU per event / "
        "relay's | Python probe ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in r.runs:
        if run.server == REFERENCE:
            continue
        delta_ratio, cpu_ratio = _delta_ratio(r, run), _cpu_ratio(r, run)
        delta = "timed out (MISSED)" if run.first_delta_p99_s is None else None
        lines.append(
            f"| {_count(run)} | {run.server} | {_verdict(run.done == run.streams)} | "
            f"{delta or _ratio_verdict(delta_ratio, FIRST_DELTA_P99_TARGET_RATIO)} | {_verdict(_probes_met(run))} | "
            f"{run.kib_per_open_stream} ({_verdict(run.kib_per_open_stream <= MEMORY_PER_STREAM_TARGET_KIB)}) | "
            f"{_ratio_verdict(cpu_ratio, CPU_PER_EVENT_TARGET_RATIO)} | {_probe_ms(run.python_probe_ms)} |"
        )
    tallies = _tallies(r)
    return lines + (["", *tallies] if tallies else [])


def _relay_beside(r: StreamsResult, run: StreamRun) -> StreamRun | None:
    """The relay's run at the same count, in the same repeat."""
    return next(
        (x for x in r.runs if x.server == REFERENCE and x.streams == run.streams and x.repeat == run.repeat), None
    )


def _delta_ratio(r: StreamsResult, run: StreamRun) -> float | None:
    relay = _relay_beside(r, run)
    return _ratio(run.first_delta_p99_s, relay.first_delta_p99_s if relay else None)


def _cpu_ratio(r: StreamsResult, run: StreamRun) -> float | None:
    relay = _relay_beside(r, run)
    return _ratio(run.cpu_ms_per_event, relay.cpu_ms_per_event if relay else None)


def _all_met(r: StreamsResult, run: StreamRun) -> bool:
    delta_ratio, cpu_ratio = _delta_ratio(r, run), _cpu_ratio(r, run)
    return (
        run.done == run.streams
        and delta_ratio is not None
        and delta_ratio <= FIRST_DELTA_P99_TARGET_RATIO
        and _probes_met(run)
        and run.kib_per_open_stream <= MEMORY_PER_STREAM_TARGET_KIB
        and cpu_ratio is not None
        and cpu_ratio <= CPU_PER_EVENT_TARGET_RATIO
    )


def _tallies(r: StreamsResult) -> list[str]:
    """For a count run several times: in how many runs each server met every target, and the first-delta ratios."""
    lines = []
    repeated = sorted({(run.streams, run.server) for run in r.runs if run.repeat and run.server != REFERENCE})
    for streams, server in repeated:
        runs = [run for run in r.runs if run.streams == streams and run.server == server]
        ratios = [_delta_ratio(r, run) for run in runs]
        lines.append(
            f"- {streams:,} streams through {server}, {len(runs)} runs: every target met in "
            f"{sum(_all_met(r, run) for run in runs)}; first-delta p99 / relay's "
            f"{', '.join('n/a' if ratio is None else str(ratio) for ratio in ratios)}; probes met in "
            f"{sum(_probes_met(run) for run in runs)}; Python probe "
            f"{', '.join(_probe_ms(run.python_probe_ms) for run in runs)} ms."
        )
    return lines


def _probe_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,}"


def _count(run: StreamRun) -> str:
    return f"{run.streams:,}" + (f" (run {run.repeat})" if run.repeat else "")


def _probes_met(run: StreamRun) -> bool:
    me, health, ready = run.probe("/auth/me"), run.probe("/healthz"), run.probe("/readyz")
    if me.failed or health.failed or ready.failed:
        return False
    return (
        (me.p99_ms or 0) <= ME_P99_TARGET_MS
        and (health.p99_ms or 0) <= HEALTH_P99_TARGET_MS
        and (ready.p99_ms or 0) <= HEALTH_P99_TARGET_MS
    )


def _paper(r: StreamsResult) -> list[str]:
    """10,000 streams per replica, from each server's largest run that it held (every stream ended in `done`);
    a saturated run's memory and descriptors also count connections still waiting to be served."""
    nginx = r.nginx
    lines = [
        f"{PAPER_STREAMS:,} streams per replica on paper, from each server's largest run in which every stream "
        "ended in `done` (else its run with the most streams open at once):",
        "",
    ]
    chosen: dict[str, StreamRun] = {}
    for run in r.runs:
        if run.most_open and _held_better(run, chosen.get(run.server)):
            chosen[run.server] = run
    for server, run in chosen.items():
        memory = run.idle_pss_mib + run.kib_per_open_stream * PAPER_STREAMS / 1024
        fds_per_stream = (run.peak_fds - run.idle_fds) / run.most_open
        workers = max(run.processes - 1, 1) if server != REFERENCE else 1
        per_worker = fds_per_stream * PAPER_STREAMS / workers
        lines.append(
            f"- {server} ({run.streams:,} streams, {run.most_open:,} open at once): memory {memory:,.0f} MiB "
            f"({run.idle_pss_mib} idle + {run.kib_per_open_stream} KiB x {PAPER_STREAMS:,}); file descriptors "
            f"{fds_per_stream:.2f} per open stream measured, so {per_worker:,.0f} per process over {workers} "
            f"process(es) against a soft RLIMIT_NOFILE of {run.fd_limit:,} "
            f"({_verdict(per_worker < run.fd_limit)}); OS threads at the peak {run.peak_threads:,}."
        )
    connections = int(nginx.get("worker_connections", "0") or 0)
    rlimit = int(nginx.get("worker_rlimit_nofile", "0") or 0)
    processes = nginx.get("worker_processes", "auto")
    nginx_workers = int(processes) if processes.isdigit() else (os.cpu_count() or 1)
    needed = 2 * PAPER_STREAMS / nginx_workers  # a client and an upstream connection per stream
    lines.append(
        f"- nginx in front (deploy/nginx/wisdom.conf.template): 2 connections per stream, {2 * PAPER_STREAMS:,} in "
        f"all, {needed:,.0f} per worker with worker_processes {processes} ({nginx_workers} here): worker_connections "
        f"{connections:,} ({_verdict(connections >= needed)}), worker_rlimit_nofile {rlimit:,} "
        f"({_verdict(rlimit >= needed)})."
    )
    return lines


def _held_better(run: StreamRun, than: StreamRun | None) -> bool:
    if than is None:
        return True
    held, held_before = run.done == run.streams, than.done == than.streams
    if held != held_before:
        return held
    return run.streams > than.streams if held else run.most_open > than.most_open


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 2)


def _ratio_verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "n/a (no reference figure)"
    return f"{ratio} ({_verdict(ratio <= target)})"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _s(seconds: float | None) -> str:
    return "timed out" if seconds is None else f"{seconds:.2f}"


def _ms(ms: float | None) -> str:
    return "timed out" if ms is None else f"{ms:.0f}"


def _load(load: tuple[float, ...]) -> str:
    return " / ".join(f"{x:.1f}" for x in load)
