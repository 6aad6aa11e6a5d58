"""Proxy overhead: `GET /personal/entities/{name}` through wisdom vs straight to the double, in rounds.

This machine is a VM whose CPU speed drifts between runs, so one run alone can mislead by 30 %: each
concurrency runs `repeats` rounds (through wisdom, then straight to the double) and the medians are kept,
beside a yardstick of the machine's speed at the time.
"""

import statistics
from dataclasses import dataclass

from bench import procs
from bench.target import Target
from bench.wrk import WrkResult, run_wrk

# (wrk connections, wrk threads)
CONCURRENCIES = ((1, 1), (32, 2))


@dataclass(frozen=True)
class PathFigures:
    """Medians over the rounds of one path (through wisdom, or straight to the double)."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: float


@dataclass(frozen=True)
class OverheadRow:
    """One concurrency: medians over the rounds, and the per-round figures the medians hide."""

    connections: int
    through_wisdom: PathFigures
    straight_to_double: PathFigures
    rps_ratio: float
    added_p50_ms: float
    cpu_ms_per_request: float
    upstream_connections_opened: int  # summed over the rounds
    connections_per_1000: float
    added_p50_ms_each: tuple[float, ...]
    cpu_ms_per_request_each: tuple[float, ...]


@dataclass(frozen=True)
class OverheadResult:
    yardstick_cpu_ms: float  # wisdom's CPU per `/healthz` (no I/O): it moves only with the machine's speed
    rounds: int
    rows: tuple[OverheadRow, ...]

    def row(self, connections: int) -> OverheadRow:
        return next(row for row in self.rows if row.connections == connections)


@dataclass(frozen=True)
class _Round:
    through_wisdom: WrkResult
    straight_to_double: WrkResult
    cpu_ms_per_request: float
    upstream_connections_opened: int


def measure_overhead(target: Target, *, seconds: int, repeats: int) -> OverheadResult:
    run_wrk(
        target.entity_url, label="warm-up", log=target.commands, connections=8, threads=2, seconds=3,
        headers=target.auth_headers,
    )  # fmt: skip
    yardstick_cpu_ms = _yardstick_cpu_ms(target, seconds=seconds)
    rows = []
    for connections, threads in CONCURRENCIES:
        rounds = [_round(target, connections, threads, seconds) for _ in range(repeats)]
        rows.append(_median_row(connections, rounds))
    return OverheadResult(yardstick_cpu_ms=yardstick_cpu_ms, rounds=repeats, rows=tuple(rows))


def _yardstick_cpu_ms(target: Target, *, seconds: int) -> float:
    cpu_before = procs.cpu_seconds(target.wisdom_pid)
    health = run_wrk(
        f"{target.wisdom_url}/healthz", label="yardstick", log=target.commands, connections=1, threads=1,
        seconds=seconds,
    )  # fmt: skip
    return round((procs.cpu_seconds(target.wisdom_pid) - cpu_before) * 1000 / max(health.requests, 1), 3)


def _round(target: Target, connections: int, threads: int, seconds: int) -> _Round:
    double = target.double
    connections_before = double.stats()["connections"]
    cpu_before = procs.cpu_seconds(target.wisdom_pid)
    through = run_wrk(
        target.entity_url, label=f"wisdom c{connections}", log=target.commands, connections=connections,
        threads=threads, seconds=seconds, headers=target.auth_headers,
    )  # fmt: skip
    cpu_seconds = procs.cpu_seconds(target.wisdom_pid) - cpu_before
    opened = double.stats()["connections"] - connections_before
    double.clear_received()  # the double keeps what it received; the benchmark does not need it
    straight = run_wrk(
        target.direct_entity_url, label=f"double c{connections}", log=target.commands, connections=connections,
        threads=threads, seconds=seconds, headers=target.direct_headers,
    )  # fmt: skip
    double.clear_received()
    return _Round(
        through_wisdom=through,
        straight_to_double=straight,
        cpu_ms_per_request=cpu_seconds * 1000 / max(through.requests, 1),
        upstream_connections_opened=opened,
    )


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def _path_medians(results: list[WrkResult]) -> PathFigures:
    return PathFigures(
        rps=_median([r.rps for r in results]),
        p50_ms=_median([r.p50_ms for r in results]),
        p99_ms=_median([r.p99_ms for r in results]),
        requests=_median([r.requests for r in results]),
    )


def _median_row(connections: int, rounds: list[_Round]) -> OverheadRow:
    added_p50 = [r.through_wisdom.p50_ms - r.straight_to_double.p50_ms for r in rounds]
    return OverheadRow(
        connections=connections,
        through_wisdom=_path_medians([r.through_wisdom for r in rounds]),
        straight_to_double=_path_medians([r.straight_to_double for r in rounds]),
        rps_ratio=_median([r.through_wisdom.rps / r.straight_to_double.rps for r in rounds]),
        added_p50_ms=_median(added_p50),
        cpu_ms_per_request=_median([r.cpu_ms_per_request for r in rounds]),
        upstream_connections_opened=sum(r.upstream_connections_opened for r in rounds),
        connections_per_1000=_median(
            [r.upstream_connections_opened * 1000 / max(r.through_wisdom.requests, 1) for r in rounds]
        ),
        added_p50_ms_each=tuple(round(value, 3) for value in added_p50),
        cpu_ms_per_request_each=tuple(round(r.cpu_ms_per_request, 3) for r in rounds),
    )
