"""A run's results: written to bench/results/results.json by a run, read back by `python -m bench --report`."""

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from bench.machine import Machine
from bench.scenarios.allowlist import AllowlistResult
from bench.scenarios.cost import CostResult, ScalingResult
from bench.scenarios.hashing import HashingResult
from bench.scenarios.overhead import OverheadResult
from bench.scenarios.profiling import ProfileResult
from bench.scenarios.reset_timing import ResetTimingResult
from bench.scenarios.slow_chats import SlowChatsResult
from bench.scenarios.streaming import StreamingResult
from bench.scenarios.streams import StreamsResult


@dataclass(frozen=True)
class RunResult:
    """A section run alone (`--only`) leaves the others None, or as an earlier run left them."""

    machine: Machine
    settings: dict[str, str]
    gunicorn_command: str
    overhead: OverheadResult | None
    cost: tuple[CostResult, ...] | None  # PostgreSQL, then SQLite
    scaling: ScalingResult | None
    profile: ProfileResult | None
    slow_chats: SlowChatsResult | None
    streaming: StreamingResult | None
    hashing: HashingResult | None
    allowlist: AllowlistResult | None
    reset_timing: ResetTimingResult | None
    commands: tuple[str, ...]
    streams: StreamsResult | None = None


class UnreadableResults(Exception):
    """The results file is missing, or was written by a bench whose result shapes differ from these."""


def save_results(run: RunResult, path: Path) -> None:
    path.write_text(json.dumps(dataclasses.asdict(run), indent=2))


def load_results(path: Path) -> RunResult:
    try:
        return _build(RunResult, json.loads(path.read_text()))
    except FileNotFoundError:
        raise UnreadableResults(f"{path} does not exist: run the benchmark first") from None
    except (KeyError, TypeError, ValueError) as e:
        raise UnreadableResults(f"{path} does not match this bench's results ({e!r}): run it again") from None


def _build(kind, data):
    """`data` (as json.loads gave it) as an instance of `kind`: a dataclass, tuple[X, ...], dict, X | None or scalar."""
    if dataclasses.is_dataclass(kind):
        hints, built = typing.get_type_hints(kind), {}
        for field in dataclasses.fields(kind):
            hint = hints[field.name]
            built[field.name] = _build(hint, data[field.name] if _required(hint) else data.get(field.name))
        return kind(**built)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        return tuple(_build(args[0], item) for item in data)
    if origin is dict:
        return {_build(args[0], key): _build(args[1], value) for key, value in data.items()}
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        (inner,) = (arg for arg in args if arg is not types.NoneType)
        return _build(inner, data)
    return kind(data)  # int, float or str; JSON object keys arrive as strings


def _required(kind) -> bool:
    """A field that may be None may also be missing (results written before the field existed)."""
    return not (typing.get_origin(kind) in (typing.Union, types.UnionType) and types.NoneType in typing.get_args(kind))
