"""Runs hey (one burst of simultaneous requests) and reads its report: status counts, wall time, percentiles."""

import re
import subprocess
from dataclasses import dataclass

from bench.commands import CommandLog


@dataclass(frozen=True)
class HeyResult:
    statuses: dict[int, int]
    wall_seconds: float
    p50_s: float
    p99_s: float


def run_hey(
    url: str,
    *,
    label: str,
    log: CommandLog,
    requests: int,
    method: str,
    body: str,
    headers: dict[str, str],
    timeout_s: int = 30,
) -> HeyResult:
    """`requests` requests, all at once (as many workers as requests), each allowed `timeout_s`."""
    command = ["hey", "-n", str(requests), "-c", str(requests), "-t", str(timeout_s), "-m", method]
    command += ["-T", "application/json", "-d", body]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    log.record(label, command)
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=timeout_s + 90).stdout
    return parse(out)


def parse(out: str) -> HeyResult:
    slowest = float(re.search(r"Slowest:\s+([\d.]+) secs", out).group(1))
    return HeyResult(
        statuses={int(code): int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)},
        wall_seconds=float(re.search(r"Total:\s+([\d.]+) secs", out).group(1)),
        p50_s=_percentile(out, 50, otherwise=slowest),
        p99_s=_percentile(out, 99, otherwise=slowest),
    )


def _percentile(out: str, percent: int, *, otherwise: float) -> float:
    # Under 100 requests hey prints no 99th percentile ("0% in 0.0000 secs"): the slowest request is it.
    match = re.search(rf"^\s+{percent}% in ([\d.]+) secs", out, re.MULTILINE)
    return float(match.group(1)) if match else otherwise
