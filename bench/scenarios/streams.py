"""Thousands of streamed chats: wisdom beside the reference stream relay (bench/stream_relay.py), both in front
of one async upstream (bench/stream_upstream.py) that streams one `delta` a second and then `done`.

For each number of streams and each server, in one run: a fresh server, warmed up (a few short streams and
probes), its footprint read idle; then the load generator (bench/stream_load.py, a process of its own) starts
the streams evenly over the ramp and reads each to its end while a bystander probes `/auth/me`, `/healthz` and
`/readyz`; meanwhile the server's footprint is sampled (PSS, RSS, OS threads, file descriptors). CPU per
relayed event is the server's user + system CPU over the load (the streams' requests, authentication and the
probes included) divided by the events the clients received.
"""

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from bench import procs
from bench.machine import python_speed_ms
from bench.servers import Server
from tests.helpers.processes import ROOT

WARM_UP_STREAMS = 20
PROBE_EVERY_SECONDS = 0.5  # each of the three paths every 1.5 s
PROBE_TIMEOUT_SECONDS = 10
PAPER_STREAMS = 10_000


@dataclass(frozen=True)
class ProbeFigures:
    path: str
    p50_ms: float | None
    p99_ms: float | None  # None: the 99th percentile timed out
    probes: int
    failed: int  # not a 200, timed out or refused


@dataclass(frozen=True)
class StreamRun:
    server: str
    streams: int
    done: int
    other_endings: dict[str, int]
    most_open: int  # answered 200 and not yet ended, at once (the client's count)
    upstream_most_open: int
    first_delta_p50_s: float | None  # None: that percentile never got a delta in time
    first_delta_p99_s: float | None
    probes: tuple[ProbeFigures, ...]
    wall_seconds: float
    idle_pss_mib: float
    peak_pss_mib: float
    peak_rss_mib: float
    kib_per_open_stream: float
    events: int
    cpu_seconds: float
    cpu_ms_per_event: float
    peak_threads: int
    idle_fds: int
    peak_fds: int
    processes: int
    fd_limit: int  # the soft RLIMIT_NOFILE of the server's processes
    load_average: tuple[float, ...]  # 1, 5 and 15 minutes, as the run ended
    server_cores: float  # the server's CPU seconds over the load's wall time
    load_generator_cores: float
    machine_busy_percent: float  # every core, every process, over the load
    repeat: int | None = None  # which of the runs at this count (None: the only one)
    python_probe_ms: float | None = None  # bench.machine.python_speed_ms just before the run: the VM's speed then

    def probe(self, path: str) -> ProbeFigures:
        return next(p for p in self.probes if p.path == path)


@dataclass(frozen=True)
class StreamsResult:
    date: str
    stream_seconds: int
    ramp_seconds: int
    deadline_seconds: int
    servers: dict[str, str]  # label: what it is
    runs: tuple[StreamRun, ...]
    load_average_before: tuple[float, ...]
    nginx: dict[str, str]  # the deployment's nginx limits, for the figures on paper


@dataclass(frozen=True)
class ServerUnderTest:
    label: str
    description: str
    start: Callable[[str], AbstractContextManager[Server]]  # given the run's log name


@dataclass(frozen=True)
class StreamLoad:
    path: str
    body: str
    headers: dict[str, str]
    bystander_headers: dict[str, str]


def streams_at_scale(
    servers: list[ServerUnderTest],
    *,
    upstream: Server,
    load: StreamLoad,
    counts: list[int],
    stream_seconds: int,
    ramp_seconds: int,
    repeats: int = 1,
    log_dir: Path,
) -> StreamsResult:
    """Each count through each server; the largest count `repeats` times, the servers' order reversed every other
    time, so that a slow or fast spell of the machine does not fall on one server alone."""
    deadline = 2 * stream_seconds + 10  # a stream queued behind others gets this long in all
    load_before = os.getloadavg()
    runs = []
    for count in counts:
        rounds = repeats if count == max(counts) else 1
        for round_index in range(rounds):
            repeat = round_index + 1 if rounds > 1 else None
            for server in servers if round_index % 2 == 0 else list(reversed(servers)):
                print(f"streams: {count} through {server.label}" + (f", run {repeat} of {rounds}" if repeat else ""),
                      flush=True)  # fmt: skip
                run = _run(
                    server,
                    count=count,
                    repeat=repeat,
                    upstream=upstream,
                    load=load,
                    seconds=stream_seconds,
                    ramp=ramp_seconds,
                    deadline=deadline,
                    log_dir=log_dir,
                )
                runs.append(run)
                print(
                    f"  {run.done} of {count} done, first delta p99 {run.first_delta_p99_s} s, "
                    f"{run.kib_per_open_stream} KiB per open stream, {run.cpu_ms_per_event} ms CPU per event",
                    flush=True,
                )
    return StreamsResult(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        stream_seconds=stream_seconds,
        ramp_seconds=ramp_seconds,
        deadline_seconds=deadline,
        servers={server.label: server.description for server in servers},
        runs=tuple(runs),
        load_average_before=tuple(round(x, 2) for x in load_before),
        nginx=nginx_limits(),
    )


def _run(
    server_under_test: ServerUnderTest,
    *,
    count: int,
    repeat: int | None,
    upstream: Server,
    load: StreamLoad,
    seconds: int,
    ramp: int,
    deadline: int,
    log_dir: Path,
) -> StreamRun:
    _wait_until_upstream_idle(upstream)
    python_probe_ms = python_speed_ms()
    log_name = f"streams-{count}-{re.sub(r'[^A-Za-z0-9]+', '-', server_under_test.label).strip('-')}"
    if repeat is not None:
        log_name += f"-run{repeat}"
    with server_under_test.start(log_name) as server:
        _pace(upstream, deltas=3, interval=0.05)
        _load(server, load, streams=WARM_UP_STREAMS, ramp=1, deadline=30)
        _pace(upstream, deltas=seconds, interval=1.0)
        time.sleep(1)
        idle = procs.footprint(server.pid)
        cpu_before = procs.cpu_seconds(server.pid)
        psutil.cpu_percent(None)
        with procs.peak_footprint(server.pid) as peak:
            outcome = _load(server, load, streams=count, ramp=ramp, deadline=deadline)
        busy = psutil.cpu_percent(None)
        cpu = procs.cpu_seconds(server.pid) - cpu_before
        fd_limit = _fd_limit(server.pid)
    upstream_most_open = requests.get(f"{upstream.url}/__stats", timeout=10).json()["most_open"]
    (log_dir / f"{log_name}.json").write_text(json.dumps(outcome))  # every stream and probe, for a closer look
    streams, probes = outcome["streams"], outcome["probes"]
    endings: dict[str, int] = {}
    for stream in streams:
        endings[stream["ending"]] = endings.get(stream["ending"], 0) + 1
    first_deltas = [s["first_delta_s"] for s in streams]
    events = sum(s["events"] for s in streams)
    most_open = outcome["most_open"]
    return StreamRun(
        server=server_under_test.label,
        streams=count,
        done=endings.pop("done", 0),
        other_endings=endings,
        most_open=most_open,
        upstream_most_open=upstream_most_open,
        first_delta_p50_s=_round(_percentile(first_deltas, 0.50), 3),
        first_delta_p99_s=_round(_percentile(first_deltas, 0.99), 3),
        probes=tuple(_probe_figures(path, probes) for path in ("/auth/me", "/healthz", "/readyz")),
        wall_seconds=round(outcome["wall_seconds"], 1),
        idle_pss_mib=round(idle.pss / 2**20, 1),
        peak_pss_mib=round(peak.pss / 2**20, 1),
        peak_rss_mib=round(peak.rss / 2**20, 1),
        kib_per_open_stream=round(max(peak.pss - idle.pss, 0) / 1024 / max(most_open, 1), 1),
        events=events,
        cpu_seconds=round(cpu, 2),
        cpu_ms_per_event=round(cpu * 1000 / max(events, 1), 3),
        peak_threads=peak.threads,
        idle_fds=idle.fds,
        peak_fds=peak.fds,
        processes=peak.processes,
        fd_limit=fd_limit,
        load_average=tuple(round(x, 2) for x in os.getloadavg()),
        server_cores=round(cpu / outcome["wall_seconds"], 2),
        load_generator_cores=round(outcome["cpu_seconds"] / outcome["wall_seconds"], 2),
        machine_busy_percent=round(busy, 1),
        repeat=repeat,
        python_probe_ms=python_probe_ms,
    )


def _load(server: Server, load: StreamLoad, *, streams: int, ramp: int, deadline: int) -> dict:
    plan = {
        "url": server.url,
        "path": load.path,
        "body": load.body,
        "headers": load.headers,
        "bystander_headers": load.bystander_headers,
        "streams": streams,
        "ramp_seconds": ramp,
        "stream_deadline_seconds": deadline,
        "probe_every_seconds": PROBE_EVERY_SECONDS,
        "probe_timeout_seconds": PROBE_TIMEOUT_SECONDS,
    }
    finished = subprocess.run(
        [sys.executable, "-m", "bench.stream_load"],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=ramp + deadline + PROBE_TIMEOUT_SECONDS + 60,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the stream load generator failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return json.loads(finished.stdout)


def _pace(upstream: Server, *, deltas: int, interval: float) -> None:
    response = requests.post(f"{upstream.url}/__pace", json={"deltas": deltas, "interval": interval}, timeout=10)
    response.raise_for_status()


def _wait_until_upstream_idle(upstream: Server, timeout: float = 30) -> None:
    """Streams a previous server left behind (clients that gave up) end at their next write."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if requests.get(f"{upstream.url}/__stats", timeout=10).json()["open"] == 0:
            return
        time.sleep(0.5)


def _fd_limit(pid: int) -> int:
    limits = [proc.rlimit(psutil.RLIMIT_NOFILE)[0] for proc in _alive(procs.tree(pid))]
    return min(limits) if limits else 0


def _alive(processes: list[psutil.Process]) -> Iterator[psutil.Process]:
    for proc in processes:
        if proc.is_running():
            yield proc


def _probe_figures(path: str, probes: list[dict]) -> ProbeFigures:
    mine = [p for p in probes if p["path"] == path]
    latencies = [p["seconds"] if p["outcome"] == "ok" else None for p in mine]
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    return ProbeFigures(
        path=path,
        p50_ms=_round(p50 * 1000 if p50 is not None else None, 1),
        p99_ms=_round(p99 * 1000 if p99 is not None else None, 1),
        probes=len(mine),
        failed=sum(1 for p in mine if p["outcome"] != "ok"),
    )


def _percentile(values: list[float | None], q: float) -> float | None:
    """Nearest rank; a missing value (never answered, failed) ranks above every measured one: None if it is hit."""
    if not values:
        return None
    ranked = sorted(values, key=lambda v: (v is None, v or 0.0))
    return ranked[max(0, min(len(ranked) - 1, int(len(ranked) * q + 0.999999) - 1))]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def nginx_limits(root: Path = ROOT) -> dict[str, str]:
    """worker_processes, worker_connections and worker_rlimit_nofile as the deployment's nginx template sets them."""
    found = {}
    for line in (root / "deploy" / "nginx" / "wisdom.conf.template").read_text().splitlines():
        parts = line.split("#", 1)[0].strip().rstrip(";").split()  # a directive, without its comment
        if len(parts) == 2 and parts[0] in ("worker_processes", "worker_connections", "worker_rlimit_nofile"):
            found[parts[0]] = parts[1]
    return found
