"""docs/benchmarks.md from a run's results: one renderer per section, composed by `render_report`."""

from bench.report_streams import render_streams
from bench.results import RunResult
from bench.scenarios.allowlist import AllowlistResult
from bench.scenarios.cost import CostResult, ScalingResult
from bench.scenarios.hashing import CallFigures, HashingResult
from bench.scenarios.overhead import OverheadResult, PathFigures
from bench.scenarios.profiling import ProfileResult
from bench.scenarios.reset_timing import ResetTimingResult
from bench.scenarios.slow_chats import SlowChatsResult
from bench.scenarios.streaming import ADDED_FIRST_DELTA_TARGET_MS, FirstDeltaFigures, StreamingResult

# The targets the figures are held to.
ADDED_P50_TARGET_MS = 2
CPU_PER_PROXIED_REQUEST_TARGET_MS = 2
CHATS_WALL_TARGET_S = 6
LIST_P99_TARGET_MS = 100
CPU_RATIO_TO_REFERENCE_TARGET = 3
ME_CPU_TARGET_MS = 1.5
ADDED_P50_VS_DIRECT_TARGET_MS = 1.5


def render_report(run: RunResult, *, notes: str | None) -> str:
    """The whole report; `notes` (bench/NOTES.md, written by hand) follow the measured sections. A section
    that was not run (`python -m bench --only ...` with no earlier results) is left out."""
    pool_size = int(run.settings["INTUNO_AGENTS_POOL_SIZE"])
    measured = [
        run.overhead and render_overhead(run.overhead, agents_pool_size=pool_size),
        run.cost and run.scaling and render_cost(run.cost, run.scaling),
        run.slow_chats and render_slow_chats(run.slow_chats),
        run.streaming and render_streaming(run.streaming),
        run.streams and render_streams(run.streams),
        run.hashing and render_hashing(run.hashing),
        run.allowlist and render_allowlist(run.allowlist),
        run.reset_timing and render_reset_timing(run.reset_timing),
        run.profile and render_profile(run.profile),
    ]
    sections = [render_header(run), *(section for section in measured if section), render_commands(run.commands)]
    if notes:
        sections.append(notes)
    return "\n\n".join(sections) + ("" if notes else "\n")


def splice_section(report: str, section: str, *, before: tuple[str, ...]) -> str:
    """`report` with the section of the same heading as `section` replaced by it, or it inserted before the
    first heading that starts with one of `before` (else at the end): a section run alone, in the last report."""
    heading = section.split("\n", 1)[0]
    number = heading.split(" ", 2)[1]  # "## 2c. Thousands ..." -> "2c."
    parts = report.split("\n\n## ")
    body = [part if i == 0 else f"## {part}" for i, part in enumerate(parts)]
    for i, part in enumerate(body):
        if part.startswith(f"## {number} "):
            body[i] = section
            return "\n\n".join(body)
    at = next((i for i, part in enumerate(body) if part.startswith(before)), len(body))
    return "\n\n".join([*body[:at], section, *body[at:]])


def render_header(run: RunResult) -> str:
    m = run.machine
    settings = ", ".join(f"`{name}={value}`" for name, value in run.settings.items())
    return _lines(
        "# wisdom benchmarks",
        "",
        f"Written by `make bench` on {m.date}. Machine: {m.cores} cores ({m.cpu}), {m.memory_gib} GiB,",
        f"Linux {m.kernel}, Python {m.python}, PostgreSQL {m.postgres}, {m.wrk}.",
        f"wisdom runs under its committed `gunicorn.conf.py` (`{run.gunicorn_command}`) on PostgreSQL with",
        "Redis as the cache and JSON logs, in front of the agents double (`python -m agents_double`), all on",
        "this one machine, sharing its cores with the load generator.",
        "",
        f"Server settings: {settings}.",
    )


def render_overhead(overhead: OverheadResult, *, agents_pool_size: int) -> str:
    lines = [
        "## 1. Proxy overhead: `GET /personal/entities/{name}` through wisdom vs straight to the double",
        "",
        f"Each row is the median of {_count(overhead.rounds, 'round')}; a round runs wrk through wisdom, then "
        "straight to the",
        "double, for the same time. Upstream connections are what the double counted as opened by wisdom.",
        "",
        "| concurrency | path | requests/s | p50 ms | p99 ms | requests |",
        "|---|---|---|---|---|---|",
    ]
    for row in overhead.rows:
        lines.append(_path_row(row.connections, "through wisdom", row.through_wisdom))
        lines.append(_path_row(row.connections, "straight to double", row.straight_to_double))
    lines += [
        "",
        "| concurrency | rps ratio (wisdom/direct) | added p50 ms | wisdom CPU ms/request | "
        "upstream TCP connections opened | per 1,000 requests |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row.connections} | {row.rps_ratio} | {row.added_p50_ms} | {row.cpu_ms_per_request} | "
        f"{row.upstream_connections_opened} | {row.connections_per_1000} |"
        for row in overhead.rows
    ]
    lines += [""]
    lines += [
        f"Concurrency {row.connections}, per round: added p50 {list(row.added_p50_ms_each)} ms, "
        f"CPU {list(row.cpu_ms_per_request_each)} ms/request."
        for row in overhead.rows
    ]
    one = overhead.row(1)
    lines += [
        "",
        f"Machine-speed yardstick of this run: `/healthz` (no I/O) cost {overhead.yardstick_cpu_ms} ms of CPU per "
        "request: compare it with the other run's before comparing two runs.",
        "",
        f"Targets (medians; best round in brackets): added p50 at concurrency 1 <= {ADDED_P50_TARGET_MS} ms (measured "
        f"{one.added_p50_ms} ms [{min(one.added_p50_ms_each)}]: "
        f"{_verdict(one.added_p50_ms <= ADDED_P50_TARGET_MS)}); CPU <= {CPU_PER_PROXIED_REQUEST_TARGET_MS} ms per "
        f"proxied request (measured {one.cpu_ms_per_request} ms [{min(one.cpu_ms_per_request_each)}]: "
        f"{_verdict(one.cpu_ms_per_request <= CPU_PER_PROXIED_REQUEST_TARGET_MS)}); upstream connections per "
        f"1,000 requests <= the pool size {agents_pool_size} per process (measured {one.connections_per_1000}: "
        f"{_verdict(one.connections_per_1000 <= agents_pool_size)}).",
    ]
    return _lines(*lines)


def render_cost(costs: tuple[CostResult, ...], scaling: ScalingResult) -> str:
    lines = [
        "## 1b. Cost per proxied call: wisdom beside the reference proxy",
        "",
        "The reference (`bench/reference.py`) is the leanest honest Python version of `GET /personal/entities/{name}`:",
        "a bare ASGI app under uvicorn (uvloop, httptools, no access log, one process) with one aiohttp session; the",
        "same HS256 check as simplejwt's with the same key and claims (the token version `ver` compared with a value",
        "it is given: it has NO database, so it cannot see a deactivation or a password change, which wisdom checks",
        "on every call), the same name rules, the same percent-encoded upstream call with the same headers, the same",
        "ownership check and documented fields. It writes no log line. Both serve the same double with one token.",
        "",
        f"CPU is the server processes' user + system time over a wrk run divided by the requests served. Each row is "
        f"the median of {_count(costs[0].rounds, 'round')}; in a round wisdom and the reference run back to back "
        "(their order alternating), then the double directly. wisdom: the committed gunicorn.conf.py, 2 workers.",
        "",
        "| database | concurrency | wisdom CPU ms/req | reference CPU ms/req | ratio | wisdom added p50 ms | "
        "reference added p50 ms | wisdom req/s | reference req/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cost in costs:
        lines += [
            f"| {cost.database} | {row.connections} | {row.wisdom_cpu_ms} | {row.reference_cpu_ms} | {row.ratio} | "
            f"{row.wisdom_added_p50_ms} | {row.reference_added_p50_ms} | {row.wisdom_rps:.0f} | "
            f"{row.reference_rps:.0f} |"
            for row in cost.rows
        ]
    lines += [""]
    for cost in costs:
        lines += [
            f"{cost.database}, concurrency {row.connections}, per round: ratio {list(row.ratio_each)}; wisdom CPU "
            f"{list(row.wisdom_cpu_each)}, reference CPU {list(row.reference_cpu_each)} ms/request."
            for row in cost.rows
        ]
    lines += [
        "",
        "| database | `/auth/me` CPU ms/req (rounds) | `/healthz` CPU ms/req (rounds) |",
        "|---|---|---|",
        *(
            f"| {cost.database} | {cost.me_cpu_ms} {list(cost.me_cpu_each)} | {cost.healthz_cpu_ms} "
            f"{list(cost.healthz_cpu_each)} |"
            for cost in costs
        ),
        "",
        f"Workers, PostgreSQL, concurrency {scaling.connections}, median of {_count(scaling.rounds, 'round')}: one "
        f"worker {scaling.one_worker_rps:.0f} req/s ({scaling.one_worker_cpu_ms} ms CPU/req), two workers "
        f"{scaling.two_workers_rps:.0f} req/s ({scaling.two_workers_cpu_ms} ms CPU/req): x{scaling.speedup} "
        f"(rounds: {list(scaling.one_worker_rps_each)} vs {list(scaling.two_workers_rps_each)}). One worker runs "
        "its Python on one core at a time (the GIL); this machine has two, shared with wrk and the double.",
        "",
        "Targets:",
    ]
    for cost in costs:
        one = cost.row(1)
        lines += [
            f"- {cost.database}: CPU ratio to the reference <= {CPU_RATIO_TO_REFERENCE_TARGET} at concurrency 1: "
            f"{one.ratio} ({_verdict_by(one.ratio, CPU_RATIO_TO_REFERENCE_TARGET)}), at 32: {cost.row(32).ratio}; "
            f"`/auth/me` <= {ME_CPU_TARGET_MS} ms CPU: {cost.me_cpu_ms} "
            f"({_verdict_by(cost.me_cpu_ms, ME_CPU_TARGET_MS)}); added p50 at concurrency 1 <= "
            f"{ADDED_P50_VS_DIRECT_TARGET_MS} ms: {one.wisdom_added_p50_ms} "
            f"({_verdict_by(one.wisdom_added_p50_ms, ADDED_P50_VS_DIRECT_TARGET_MS)}).",
        ]
    return _lines(*lines)


def _verdict_by(measured: float, target: float) -> str:
    if measured <= target:
        return "met"
    return f"MISSED by {measured - target:.2f} ({(measured / target - 1) * 100:.0f} % over)"


def render_slow_chats(chats: SlowChatsResult) -> str:
    all_created = chats.created_201 == chats.chats
    others = f" (others: {chats.other_statuses})" if chats.other_statuses else ""
    return _lines(
        f"## 2. Slow chats: {chats.chats} simultaneous `POST .../messages`, the double taking 2 s per chat",
        "",
        f"- {chats.created_201} of {chats.chats} answered 201 (hey: chat p50 {chats.chat_p50_s} s, "
        f"p99 {chats.chat_p99_s} s){others}; wall time {chats.wall_seconds} s (target: all 201 in "
        f"< {CHATS_WALL_TARGET_S} s: {_verdict(all_created and chats.wall_seconds < CHATS_WALL_TARGET_S)}).",
        f"- Meanwhile `GET /personal/entities` (wrk, 4 connections, 2 s): p50 {chats.list_p50_ms:.2f} ms, "
        f"p99 {chats.list_p99_ms:.2f} ms over {chats.list_requests} requests, {chats.list_non_2xx} non-2xx "
        f"(target p99 <= {LIST_P99_TARGET_MS} ms: {_verdict(chats.list_p99_ms <= LIST_P99_TARGET_MS)}).",
        f"- Peak resident memory of all server processes (gunicorn master and workers, and the double): "
        f"{chats.peak_rss_mib} MiB. Chats in flight upstream at once: {chats.max_in_flight_upstream}.",
    )


def render_streaming(streaming: StreamingResult) -> str:
    s = streaming
    all_done = s.completed == s.streams
    others = f" (others: {s.other_endings})" if s.other_endings else ""
    return _lines(
        "## 2b. Streamed chats (`Accept: text/event-stream`)",
        "",
        "From the double writing a stream's first `delta` to the client having parsed it (both read CLOCK_MONOTONIC):",
        "",
        "| path | p50 ms | p99 ms | streams |",
        "|---|---|---|---|",
        _first_delta_row("through wisdom", s.first_delta_through_wisdom),
        _first_delta_row("straight to double", s.first_delta_straight),
        "",
        f"Added by wisdom at p50: {s.added_first_delta_p50_ms} ms (target <= {ADDED_FIRST_DELTA_TARGET_MS} ms: "
        f"{_verdict(s.added_first_delta_p50_ms <= ADDED_FIRST_DELTA_TARGET_MS)}).",
        "",
        f"- {s.streams} simultaneous streams of {s.stream_seconds} s (20 deltas and a done each): {s.completed} ended "
        f"in `done`{others} (target: all: {_verdict(all_done)}); wall time {s.wall_seconds} s, slowest stream "
        f"{s.slowest_stream_seconds} s. Upstream streams open at once at most: {s.upstream_streams_peak}.",
        f"- wisdom's resident memory (master and workers): {s.wisdom_rss_idle_mib} MiB idle, "
        f"{s.wisdom_rss_peak_mib} MiB at the peak: {s.memory_per_stream_kib} KiB per open stream.",
        f"- wisdom's CPU per relayed event: {s.cpu_ms_per_event} ms ({s.events_relayed} events; each stream's "
        "request, authentication and limits included).",
    )


def _first_delta_row(path: str, figures: FirstDeltaFigures) -> str:
    return f"| {path} | {figures.p50_ms:.3f} | {figures.p99_ms:.3f} | {figures.samples} |"


def render_hashing(hashing: HashingResult) -> str:
    return _lines(
        "## 3. Logins and redeems with the configured password hasher",
        "",
        f"Hasher: {hashing.hasher}.",
        "",
        "| call | requests/s | p50 ms | p99 ms | requests | non-2xx | wisdom CPU ms/call |",
        "|---|---|---|---|---|---|---|",
        _call_row("`POST /auth/login`", hashing.login),
        _call_row("`POST /invites/{token}/redeem`", hashing.redeem),
    )


def render_allowlist(allowlist: AllowlistResult) -> str:
    cheapest = min(cost.microseconds for cost in allowlist.costs)
    return _lines(
        "## 4. Output allowlist cost: one upstream entity shaped down to its documented fields",
        "",
        f"In the benchmark's own process, no server: an entity dict of the {allowlist.documented_fields} documented "
        f"fields plus {allowlist.unknown_fields} that is not documented; per call, best of {allowlist.repeats} "
        "timeit repeats.",
        "",
        "| how | µs per call | x the cheapest | calls per repeat |",
        "|---|---|---|---|",
        *(
            f"| `{cost.how}` | {cost.microseconds:.2f} | {cost.microseconds / cheapest:.0f} | {cost.calls_per_repeat} |"
            for cost in allowlist.costs
        ),
    )


def render_reset_timing(resets: ResetTimingResult) -> str:
    return _lines(
        "## 5. Password reset asks: an address with an account beside one without",
        "",
        f"`POST /auth/password-reset`, {resets.asks} asks of each kind, one at a time over one connection, the kinds "
        "taking turns; every ask recorded (no per-address cap). The answer must not tell them apart by its time.",
        "",
        "| address | p50 ms | p90 ms |",
        "|---|---|---|",
        f"| with an account | {resets.known_p50_ms:.2f} | {resets.known_p90_ms:.2f} |",
        f"| without | {resets.unknown_p50_ms:.2f} | {resets.unknown_p90_ms:.2f} |",
    )


def render_profile(profile: ProfileResult) -> str:
    heading = "## Profile of the proxied GET (py-spy, all workers)"
    if profile.error is not None:
        return _lines(heading, "", f"py-spy could not run here: `{profile.error.strip()}`")
    return _lines(
        heading,
        "",
        "Share of busy samples, by function (self time):",
        "",
        "| function | self % |",
        "|---|---|",
        *(f"| `{share.function}` | {share.percent:.1f} |" for share in profile.self_time),
        "",
        "Inclusive time of the layers of one request:",
        "",
        "| function | inclusive % |",
        "|---|---|",
        *(f"| `{share.function}` | {share.percent:.1f} |" for share in profile.layers),
    )


def render_commands(commands: tuple[str, ...]) -> str:
    return _lines("## Exact commands", "", "```", *commands, "```")


def _path_row(connections: int, path: str, figures: PathFigures) -> str:
    return (
        f"| {connections} | {path} | {figures.rps:.0f} | {figures.p50_ms:.2f} | {figures.p99_ms:.2f} | "
        f"{figures.requests:.0f} |"
    )


def _call_row(call: str, figures: CallFigures) -> str:
    return (
        f"| {call} | {figures.rps:.1f} | {figures.p50_ms:.1f} | {figures.p99_ms:.1f} | {figures.requests} | "
        f"{figures.non_2xx} | {figures.cpu_ms_per_call} |"
    )


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _lines(*lines: str) -> str:
    return "\n".join(lines)
