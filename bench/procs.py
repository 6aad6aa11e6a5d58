"""Server processes for the benchmark and what they cost: CPU seconds and resident memory."""

import os
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from tests.helpers.processes import stop, wait_until_up

__all__ = ["cpu_seconds", "peak_rss", "rss_bytes", "start", "stop", "tree"]

ROOT = Path(__file__).resolve().parent.parent


def start(command: list[str], *, env: dict[str, str], log: Path, health_url: str) -> subprocess.Popen:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
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


@contextmanager
def peak_rss(pids: list[int], interval: float = 0.05):
    """Samples the summed RSS of the process trees; yields a dict whose 'peak' is filled in."""
    result = {"peak": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result["peak"] = max(result["peak"], rss_bytes(pids))
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
