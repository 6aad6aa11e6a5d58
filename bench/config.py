"""The settings of one benchmark run (command-line options, defaulting to BENCH_* environment variables)
and the environment the wisdom server runs under."""

import argparse
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.processes import ROOT

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/wisdom_bench"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/0"
AGENTS_API_KEY = "bench-agents-key"

DESCRIPTION = """\
`make bench`: start the agents double (`python -m agents_double`) and wisdom (gunicorn with the committed
gunicorn.conf.py) on PostgreSQL with Redis as the cache, drive them with wrk and hey, profile the workers
with py-spy, and write docs/benchmarks.md (raw figures in bench/results/results.json).

Needs PostgreSQL (the database in --database-url is dropped and made anew), Redis (--cache-url; keys under
a prefix of this run's own) and wrk and hey (installed from Debian's packages with apt-get when missing).
"""


@dataclass(frozen=True)
class BenchConfig:
    database_url: str
    cache_url: str
    seconds: int
    repeats: int
    chats: int
    streams: int
    stream_seconds: int
    reset_asks: int
    only: str | None
    stream_counts: tuple[int, ...]
    stream_length: int
    stream_ramp: int
    stream_repeats: int  # runs at the largest count, each server in turn
    stream_wisdom: tuple[str, ...]  # label=config[@checkout], parsed by bench.streams_section.WisdomVariant
    results_dir: Path
    report_path: Path
    notes_path: Path

    @property
    def results_path(self) -> Path:
        return self.results_dir / "results.json"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "BenchConfig":
        return cls(
            database_url=args.database_url,
            cache_url=args.cache_url,
            seconds=args.seconds,
            repeats=args.repeats,
            chats=args.chats,
            streams=args.streams,
            stream_seconds=args.stream_seconds,
            reset_asks=args.reset_asks,
            only=args.only,
            stream_counts=tuple(args.stream_counts),
            stream_length=args.stream_length,
            stream_ramp=args.stream_ramp,
            stream_repeats=args.stream_repeats,
            stream_wisdom=tuple(args.stream_wisdom or ("wisdom=gunicorn.conf.py",)),
            results_dir=ROOT / "bench" / "results",
            report_path=ROOT / "docs" / "benchmarks.md",
            notes_path=ROOT / "bench" / "NOTES.md",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="only rewrite docs/benchmarks.md from the last run's bench/results/results.json and bench/NOTES.md",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to drop, create and migrate (env BENCH_DATABASE_URL; default %(default)s)",
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL),
        help="Redis for wisdom's cache (env BENCH_CACHE_URL; default %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=_positive_int,
        default=os.environ.get("BENCH_SECONDS", "10"),
        help="length of each wrk run (env BENCH_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive_int,
        default=os.environ.get("BENCH_REPEATS", "3"),
        help="rounds of the proxy-overhead runs; medians are reported (env BENCH_REPEATS; default %(default)s)",
    )
    parser.add_argument(
        "--chats",
        type=_positive_int,
        default=os.environ.get("BENCH_CHATS", "150"),
        help="simultaneous slow chats (env BENCH_CHATS; default %(default)s)",
    )
    parser.add_argument(
        "--streams",
        type=_positive_int,
        default=os.environ.get("BENCH_STREAMS", "300"),
        help="simultaneous streamed chats (env BENCH_STREAMS; default %(default)s)",
    )
    parser.add_argument(
        "--stream-seconds",
        type=_positive_int,
        default=os.environ.get("BENCH_STREAM_SECONDS", "10"),
        help="how long each of those streams lasts (env BENCH_STREAM_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--reset-asks",
        type=_positive_int,
        default=os.environ.get("BENCH_RESET_ASKS", "400"),
        help="password reset asks per kind, with and without an account (env BENCH_RESET_ASKS; default %(default)s)",
    )
    parser.add_argument(
        "--only",
        choices=["streams"],
        help="run this section alone (its figures replace that section's in the last run's results, if any)",
    )
    parser.add_argument(
        "--stream-counts",
        type=_positive_ints,
        default=os.environ.get("BENCH_STREAM_COUNTS", "300,1000,3000"),
        help="section 2c: how many simultaneous streams, run by run (env BENCH_STREAM_COUNTS; default %(default)s)",
    )
    parser.add_argument(
        "--stream-length",
        type=_positive_int,
        default=os.environ.get("BENCH_STREAM_LENGTH", "20"),
        help="section 2c: seconds each stream lasts, one delta a second (env BENCH_STREAM_LENGTH; default %(default)s)",
    )
    parser.add_argument(
        "--stream-ramp",
        type=_positive_int,
        default=os.environ.get("BENCH_STREAM_RAMP", "10"),
        help="section 2c: the streams start evenly over this many seconds (env BENCH_STREAM_RAMP; default %(default)s)",
    )
    parser.add_argument(
        "--stream-repeats",
        type=_positive_int,
        default=os.environ.get("BENCH_STREAM_REPEATS", "3"),
        help="section 2c: runs at the largest count, each server in turn and the order reversed every other run, "
        "since one run's latency follows the VM's speed at that moment (env BENCH_STREAM_REPEATS; default "
        "%(default)s)",
    )
    parser.add_argument(
        "--stream-wisdom",
        action="append",
        metavar="LABEL=CONFIG[@CHECKOUT]",
        help="section 2c: a wisdom to measure (repeatable; default: wisdom=gunicorn.conf.py, this checkout), e.g. "
        "'wisdom gevent=bench/gunicorn.gevent.conf.py' or 'other=gunicorn.conf.py@/path/to/checkout'",
    )
    return parser


def _positive_ints(text: str) -> list[int]:
    return [_positive_int(part.strip()) for part in text.split(",") if part.strip()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def server_environment(*, database_url: str, cache_url: str) -> dict[str, str]:
    """wisdom as in production (debug off, JSON logs, Redis), with the throttles and the entity cap out of the way."""
    return {
        "DJANGO_SETTINGS_MODULE": "wisdom.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "CACHE_KEY_PREFIX": f"wisdom-bench-{uuid.uuid4().hex[:8]}",
        "AGENTS_SERVICE_API_KEY": "bench-service-key",
        "INTUNO_AGENTS_API_KEY": AGENTS_API_KEY,
        "THROTTLE_RATE_LOGIN": "1000000/min",
        "THROTTLE_RATE_INVITES": "1000000/min",
        "LOG_FORMAT": "json",
        "PERSONAL_ENTERPRISE_TIER_ENTITY_CAP": "",
    }
