"""Logins and invite redeems: the calls that run the configured password hasher, and their CPU per call."""

import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import procs
from bench.target import Target
from bench.wrk import WrkResult, run_wrk
from tests.helpers.constants import PASSWORD
from tests.helpers.processes import ROOT

LOGIN_SCRIPT = ROOT / "bench" / "login.lua"
REDEEM_SCRIPT = ROOT / "bench" / "redeem.lua"


@dataclass(frozen=True)
class CallFigures:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    cpu_ms_per_call: float


@dataclass(frozen=True)
class HashingResult:
    hasher: str  # the algorithm and its cost parameters
    login: CallFigures
    redeem: CallFigures


def logins_and_redeems(target: Target, *, seconds: int) -> HashingResult:
    from invites.services import invite_create

    login = _measure(
        target, f"{target.wisdom_url}/auth/login", label="logins", script=LOGIN_SCRIPT,
        script_args=(target.user_email, PASSWORD), seconds=seconds,
    )  # fmt: skip
    invite = invite_create(note="benchmark", max_uses=10_000)
    target.commands.hide(invite.token, "<invite-token>")
    redeem = _measure(
        target, f"{target.wisdom_url}/invites/{invite.token}/redeem", label="redeems", script=REDEEM_SCRIPT,
        script_args=(uuid.uuid4().hex[:8], PASSWORD), seconds=seconds,
    )  # fmt: skip
    return HashingResult(hasher=_hasher_parameters(), login=login, redeem=redeem)


def _measure(
    target: Target, url: str, *, label: str, script: Path, script_args: tuple[str, ...], seconds: int
) -> CallFigures:
    cpu_before = procs.cpu_seconds(target.wisdom_pid)
    result = run_wrk(
        url, label=label, log=target.commands, connections=4, threads=2, seconds=seconds, script=script,
        script_args=script_args,
    )  # fmt: skip
    return _per_call(result, procs.cpu_seconds(target.wisdom_pid) - cpu_before)


def _per_call(result: WrkResult, cpu_seconds: float) -> CallFigures:
    return CallFigures(
        requests=result.requests,
        rps=result.rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        non_2xx=result.non_2xx,
        cpu_ms_per_call=round(cpu_seconds * 1000 / max(result.requests, 1), 1),
    )


def _hasher_parameters() -> str:
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher("default")
    costs = ("time_cost", "memory_cost", "parallelism", "iterations")
    params = {name: getattr(hasher, name) for name in costs if hasattr(hasher, name)}
    return f"{hasher.algorithm} " + ", ".join(f"{name}={value}" for name, value in params.items())
