"""Runs wrk and reads its report: requests, requests/s, latency percentiles."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.commands import CommandLog

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str


def run_wrk(
    url: str,
    *,
    label: str,
    log: CommandLog,
    connections: int,
    threads: int,
    seconds: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    script_args: tuple[str, ...] = (),
    timeout_s: int = 10,
) -> WrkResult:
    """One wrk run, recorded in `log` under `label`; `script_args` reach the Lua script's init()."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    log.record(label, command)
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    return parse(out)


def parse(out: str) -> WrkResult:
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)(s|m)", out).group(1, 2)
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return WrkResult(
        requests=int(requests),
        seconds=float(seconds),
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(pct["50"]),
        p90_ms=_ms(pct["90"]),
        p99_ms=_ms(pct["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1) if errors else "none",
    )


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]
