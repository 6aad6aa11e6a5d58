"""py-spy's collapsed stacks, summed per function: where a proxied request spends its time."""

import collections
from pathlib import Path


def top_functions(raws: list[Path], *, limit: int = 15) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
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
        return [], []

    def share(counter, count):
        return [(name, 100.0 * n / total) for name, n in counter.most_common(count)]

    return share(self_samples, limit), share(inclusive, None)


def _short(frame: str) -> str:
    # "handle (gunicorn/workers/gthread.py:123)" -> keep the function and the file from the package on
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.rsplit(':', 1)[0]})"
