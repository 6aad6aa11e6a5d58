"""py-spy's collapsed stacks, summed per function: where a proxied request spends its time."""

import collections
import sys
from dataclasses import dataclass
from pathlib import Path

# Frames of wisdom's own code carry absolute paths under the checkout this module lives in.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
_PATH_PREFIXES = ("site-packages/", f"{PROJECT_ROOT}/", f"lib/python{sys.version_info.major}.{sys.version_info.minor}/")


@dataclass(frozen=True)
class FunctionShare:
    function: str  # "name (file)", the file relative to its package root
    percent: float  # of all busy samples


def top_functions(raws: list[Path], *, limit: int = 15) -> tuple[tuple[FunctionShare, ...], tuple[FunctionShare, ...]]:
    """(self time, inclusive time) shares per function, from `py-spy record --format raw` outputs."""
    self_samples: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    lines = [line for raw in raws for line in raw.read_text().splitlines()]
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_short(frame) for frame in stack.split(";") if " (" in frame]
        if not frames:
            continue
        total += samples
        self_samples[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return (), ()

    def shares(counter: collections.Counter, count: int | None) -> tuple[FunctionShare, ...]:
        return tuple(FunctionShare(name, 100.0 * n / total) for name, n in counter.most_common(count))

    return shares(self_samples, limit), shares(inclusive, None)


def _short(frame: str) -> str:
    # "handle (/…/site-packages/gunicorn/workers/gthread.py:123)" -> "handle (gunicorn/workers/gthread.py)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for prefix in _PATH_PREFIXES:
        if prefix in where:
            where = where.split(prefix, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"
