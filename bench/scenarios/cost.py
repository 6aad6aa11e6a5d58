"""Cost per proxied call: wisdom's CPU per `GET /personal/entities/{name}` as a ratio to the reference proxy's
(bench/reference.py), side by side, on PostgreSQL and on SQLite; `/auth/me` and `/healthz` beside them.

CPU per request (the server processes' user + system CPU over a wrk run, divided by the requests served) is the
figure that matters here: on a shared 2-core VM it moves far less with the neighbours than latency does. Each round
runs wisdom and the reference back to back at each concurrency (the order alternating between rounds), so both see
the machine in the same phase; the medians over the rounds are kept, with every round's figure beside them.
"""

import statistics
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.commands import CommandLog
from bench.servers import Server
from bench.wrk import WrkResult, run_wrk

# (wrk connections, wrk threads)
CONCURRENCIES = ((1, 1), (32, 2))


@dataclass(frozen=True)
class Measured:
    """One wrk run against one server, and that server's CPU over it."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float


@dataclass(frozen=True)
class CostRow:
    """One concurrency on one database: medians over the rounds, and each round's figures."""

    connections: int
    wisdom_cpu_ms: float
    reference_cpu_ms: float
    ratio: float  # median of the per-round ratios
    wisdom_p50_ms: float
    reference_p50_ms: float
    direct_p50_ms: float  # straight to the double
    wisdom_added_p50_ms: float
    reference_added_p50_ms: float
    wisdom_rps: float
    reference_rps: float
    ratio_each: tuple[float, ...]
    wisdom_cpu_each: tuple[float, ...]
    reference_cpu_each: tuple[float, ...]


@dataclass(frozen=True)
class CostResult:
    database: str  # "PostgreSQL" or "SQLite"
    rounds: int
    rows: tuple[CostRow, ...]
    me_cpu_ms: float  # `GET /auth/me`, concurrency 1, median over the rounds
    me_cpu_each: tuple[float, ...]
    healthz_cpu_ms: float  # `/healthz`: gunicorn and the first middlewares only, no I/O
    healthz_cpu_each: tuple[float, ...]

    def row(self, connections: int) -> CostRow:
        return next(row for row in self.rows if row.connections == connections)


@dataclass(frozen=True)
class CostTarget:
    """What one cost scenario drives: a wisdom and the reference in front of the same double."""

    database: str
    wisdom: Server
    reference: Server
    direct_url: str  # the entity straight from the double
    direct_headers: dict[str, str]
    entity_path: str  # "/personal/entities/<name>"
    auth_headers: dict[str, str]
    commands: CommandLog


def measure_cost(target: CostTarget, *, seconds: int, repeats: int) -> CostResult:
    for server in (target.wisdom, target.reference):  # warm both: pools filled, code paths taken once
        measure(server, target.entity_path, target=target, label="warm-up", connections=8, threads=2, seconds=2)
    runs: dict[tuple[str, int], list[Measured]] = {}
    me, healthz = [], []
    for round_number in range(repeats):
        for connections, threads in CONCURRENCIES:
            servers = [("wisdom", target.wisdom), ("reference", target.reference)]
            for name, server in servers if round_number % 2 == 0 else reversed(servers):
                label = f"{name} {target.database} c{connections}"
                runs.setdefault((name, connections), []).append(
                    measure(
                        server,
                        target.entity_path,
                        target=target,
                        label=label,
                        connections=connections,
                        threads=threads,
                        seconds=seconds,
                    )
                )
            runs.setdefault(("direct", connections), []).append(
                direct(target, connections=connections, threads=threads, seconds=seconds)
            )
        me.append(measure(target.wisdom, "/auth/me", target=target, label="me", connections=1, threads=1,
                          seconds=seconds))  # fmt: skip
        healthz.append(measure(target.wisdom, "/healthz", target=target, label="healthz", connections=1, threads=1,
                               seconds=seconds))  # fmt: skip
    rows = tuple(_row(connections, runs) for connections, _ in CONCURRENCIES)
    return CostResult(
        database=target.database,
        rounds=repeats,
        rows=rows,
        me_cpu_ms=_median([m.cpu_ms_per_request for m in me]),
        me_cpu_each=tuple(m.cpu_ms_per_request for m in me),
        healthz_cpu_ms=_median([m.cpu_ms_per_request for m in healthz]),
        healthz_cpu_each=tuple(m.cpu_ms_per_request for m in healthz),
    )


def measure(
    server: Server,
    path: str,
    *,
    target: CostTarget,
    label: str,
    connections: int,
    threads: int,
    seconds: int,
    script: Path | None = None,
) -> Measured:
    """One wrk run on `server` with the user's token (and `script`'s requests, when given); every answer must be a
    2xx (a failing server looks cheap)."""
    cpu_before = procs.cpu_seconds(server.pid)
    result = run_wrk(
        server.url + path,
        label=label,
        log=target.commands,
        connections=connections,
        threads=threads,
        seconds=seconds,
        headers=target.auth_headers,
        script=script,
    )
    cpu = procs.cpu_seconds(server.pid) - cpu_before
    return _measured(result, cpu, label=label)


def direct(target: CostTarget, *, connections: int, threads: int, seconds: int) -> Measured:
    result = run_wrk(
        target.direct_url,
        label=f"double c{connections}",
        log=target.commands,
        connections=connections,
        threads=threads,
        seconds=seconds,
        headers=target.direct_headers,
    )
    return _measured(result, 0.0, label="straight to the double")


def _measured(result: WrkResult, cpu_seconds: float, *, label: str) -> Measured:
    if result.non_2xx or result.requests == 0:
        raise RuntimeError(f"{label}: {result.non_2xx} of {result.requests} answers were not 2xx")
    return Measured(
        requests=result.requests,
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        cpu_ms_per_request=round(cpu_seconds * 1000 / result.requests, 3),
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _row(connections: int, runs: dict[tuple[str, int], list[Measured]]) -> CostRow:
    wisdom, reference, straight = (runs[(name, connections)] for name in ("wisdom", "reference", "direct"))
    ratios = [w.cpu_ms_per_request / max(r.cpu_ms_per_request, 1e-9) for w, r in zip(wisdom, reference, strict=True)]
    return CostRow(
        connections=connections,
        wisdom_cpu_ms=_median([m.cpu_ms_per_request for m in wisdom]),
        reference_cpu_ms=_median([m.cpu_ms_per_request for m in reference]),
        ratio=round(statistics.median(ratios), 2),
        wisdom_p50_ms=_median([m.p50_ms for m in wisdom]),
        reference_p50_ms=_median([m.p50_ms for m in reference]),
        direct_p50_ms=_median([m.p50_ms for m in straight]),
        wisdom_added_p50_ms=_median([w.p50_ms - d.p50_ms for w, d in zip(wisdom, straight, strict=True)]),
        reference_added_p50_ms=_median([r.p50_ms - d.p50_ms for r, d in zip(reference, straight, strict=True)]),
        wisdom_rps=_median([m.rps for m in wisdom]),
        reference_rps=_median([m.rps for m in reference]),
        ratio_each=tuple(round(ratio, 2) for ratio in ratios),
        wisdom_cpu_each=tuple(m.cpu_ms_per_request for m in wisdom),
        reference_cpu_each=tuple(m.cpu_ms_per_request for m in reference),
    )


@dataclass(frozen=True)
class ScalingResult:
    """Proxied GETs at concurrency 32 through wisdom with one gunicorn worker, then two (PostgreSQL)."""

    connections: int
    rounds: int
    one_worker_rps: float
    two_workers_rps: float
    speedup: float  # median of the per-round two/one ratios
    one_worker_rps_each: tuple[float, ...]
    two_workers_rps_each: tuple[float, ...]
    one_worker_cpu_ms: float
    two_workers_cpu_ms: float


def measure_scaling(
    one_worker: Server, two_workers: Server, *, target: CostTarget, seconds: int, repeats: int
) -> ScalingResult:
    connections, threads = CONCURRENCIES[-1]
    measure(one_worker, target.entity_path, target=target, label="warm-up", connections=8, threads=2, seconds=2)
    one, two = [], []
    for round_number in range(repeats):
        pairs = [(one, one_worker, "1 worker"), (two, two_workers, "2 workers")]
        for runs, server, name in pairs if round_number % 2 == 0 else reversed(pairs):
            runs.append(
                measure(
                    server,
                    target.entity_path,
                    target=target,
                    label=f"scaling {name}",
                    connections=connections,
                    threads=threads,
                    seconds=seconds,
                )
            )
    return ScalingResult(
        connections=connections,
        rounds=repeats,
        one_worker_rps=_median([m.rps for m in one]),
        two_workers_rps=_median([m.rps for m in two]),
        speedup=round(statistics.median([b.rps / a.rps for a, b in zip(one, two, strict=True)]), 2),
        one_worker_rps_each=tuple(m.rps for m in one),
        two_workers_rps_each=tuple(m.rps for m in two),
        one_worker_cpu_ms=_median([m.cpu_ms_per_request for m in one]),
        two_workers_cpu_ms=_median([m.cpu_ms_per_request for m in two]),
    )
