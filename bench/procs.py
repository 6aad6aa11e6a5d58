"""Server processes for the benchmark and what they cost: CPU seconds and resident memory."""

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.helpers.processes import ROOT, stop, wait_until_up

__all__ = ["PeakMemory", "cpu_seconds", "peak_rss", "rss_bytes", "start", "stop", "tree"]


def start(command: list[str], *, env: dict[str, str], log: Path, health_url: str, cwd: Path = ROOT) -> subprocess.Popen:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    wait_until_up(health_url, process, timeout=30)
    return process


def tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for proc in tree(pid):
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        for proc in tree(pid):
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    return total


@dataclass
class PeakMemory:
    bytes: int = 0


@contextmanager
def peak_rss(pids: list[int], interval: float = 0.05) -> Iterator[PeakMemory]:
    """Samples the summed RSS of the process trees while the block runs; the peak is final once it ends."""
    result = PeakMemory()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result.bytes = max(result.bytes, rss_bytes(pids))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
