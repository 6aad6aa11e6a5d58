"""`POST /auth/password-reset` for addresses with an account and addresses without, alternating, one ask at a time
over one keep-alive connection: the two medians side by side, since the answer's time must not tell them apart.

Part of `make bench`; alone (its own database, wisdom_bench_reset, and Redis db 6 under a prefix of its own), with
an optional second checkout measured in the same rounds:

    python -m bench.scenarios.reset_timing [--asks 400] [--before /tmp/wisdom-main]
"""

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.commands import CommandLog
from bench.servers import Server, wisdom_server

# Every ask is recorded: no per-address cap or per-client throttle hides the work an ask costs.
RESET_ENV = {"THROTTLE_RATE_PASSWORD_RESET": "1000000/min", "PASSWORD_RESET_EMAIL_LIMIT": "1000000"}
WARM_UP_ASKS = 20


@dataclass(frozen=True)
class ResetTimingResult:
    asks: int  # per side
    known_p50_ms: float
    unknown_p50_ms: float
    known_p90_ms: float
    unknown_p90_ms: float


def reset_timing(server_env: dict[str, str], *, log_dir: Path, commands: CommandLog, asks: int) -> ResetTimingResult:
    """Against a wisdom of its own (the benchmark's database, the reset limits lifted)."""
    known = create_reset_accounts(count=asks)
    with wisdom_server(
        {**server_env, **RESET_ENV}, log=log_dir / "wisdom-reset.log", commands=commands, label="wisdom, resets"
    ) as server:
        return measure_reset_timing([server], known=known)[0]


def create_reset_accounts(*, count: int) -> list[str]:
    """`count` active accounts with a password (one hash, computed once), made straight in the database."""
    from django.contrib.auth.hashers import make_password

    from accounts.emails import email_key
    from accounts.models import User

    password = make_password("reset-timing-passphrase")
    emails = [f"reset-{n}@bench.example.com" for n in range(count)]
    User.objects.bulk_create(
        [User(email=email, email_key=email_key(email), password=password) for email in emails], ignore_conflicts=True
    )
    return emails


def measure_reset_timing(servers: list[Server], *, known: list[str]) -> list[ResetTimingResult]:
    """For each server, one ask per known address and as many for unknown ones; the servers and the two kinds
    take turns, so a drift of the machine's speed hits them alike."""
    sessions = [requests.Session() for _ in servers]
    run = time.monotonic_ns()
    times: list[dict[str, list[float]]] = [{"known": [], "unknown": []} for _ in servers]
    for n in range(-WARM_UP_ASKS, len(known)):
        pair = [("known", known[n % len(known)]), ("unknown", f"nobody-{run}-{n}@bench.example.com")]
        for index, server in enumerate(servers):
            for kind, email in pair if n % 2 else reversed(pair):
                took = _ask(sessions[index], server.url, email)
                if n >= 0:
                    times[index][kind].append(took)
    return [
        ResetTimingResult(
            asks=len(known),
            known_p50_ms=round(statistics.median(side["known"]), 2),
            unknown_p50_ms=round(statistics.median(side["unknown"]), 2),
            known_p90_ms=round(_p90(side["known"]), 2),
            unknown_p90_ms=round(_p90(side["unknown"]), 2),
        )
        for side in times
    ]


def _ask(session: requests.Session, url: str, email: str) -> float:
    started = time.perf_counter()
    response = session.post(f"{url}/auth/password-reset", json={"email": email}, timeout=30)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 202:
        raise RuntimeError(f"POST /auth/password-reset answered {response.status_code}: {response.text[:200]}")
    return took


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main(argv: list[str] | None = None) -> int:
    from bench.config import server_environment
    from bench.database import recreate_database
    from tests.helpers.processes import ROOT

    parser = argparse.ArgumentParser(prog="python -m bench.scenarios.reset_timing", description=__doc__)
    parser.add_argument("--asks", type=int, default=400, help="asks per kind and server (default %(default)s)")
    parser.add_argument("--before", type=Path, help="a second checkout to measure in the same rounds")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/wisdom_bench_reset")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args(argv)

    server_env = server_environment(database_url=args.database_url, cache_url=args.cache_url)
    os.environ.update(server_env)
    recreate_database(args.database_url)
    import django

    django.setup()
    known = create_reset_accounts(count=args.asks)
    log_dir = ROOT / "bench" / "results"
    log_dir.mkdir(parents=True, exist_ok=True)
    checkouts = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    commands = CommandLog()
    with ExitStack() as stack:
        env = {**server_env, **RESET_ENV}
        servers = [
            stack.enter_context(
                wisdom_server(env, log=log_dir / f"wisdom-reset-{name}.log", commands=commands, label=name, cwd=where)
            )
            for name, where in checkouts.items()
        ]
        results = measure_reset_timing(servers, known=known)
    print("| checkout | asks per kind | with an account p50 ms | without p50 ms | with p90 ms | without p90 ms |")
    print("|---|---|---|---|---|---|")
    for name, result in zip(checkouts, results, strict=True):
        print(
            f"| {name} | {result.asks} | {result.known_p50_ms} | {result.unknown_p50_ms} | {result.known_p90_ms} "
            f"| {result.unknown_p90_ms} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
