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

__all__ = [
    "Footprint", "PeakMemory", "cpu_seconds", "footprint", "peak_footprint", "peak_rss", "rss_bytes", "start", "stop",
    "stop_tree", "tree",
]  # fmt: skip


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


@dataclass
class Footprint:
    """A process tree at one moment (or the most of each over a while): proportional and resident memory (bytes),
    OS threads, open file descriptors, processes."""

    pss: int = 0
    rss: int = 0
    threads: int = 0
    fds: int = 0
    processes: int = 0

    def most(self, other: "Footprint") -> None:
        for name in ("pss", "rss", "threads", "fds", "processes"):
            setattr(self, name, max(getattr(self, name), getattr(other, name)))


def footprint(pid: int) -> Footprint:
    """PSS counts a page shared by the master and its forked workers once in all, not once per process."""
    seen = Footprint()
    for proc in tree(pid):
        try:
            memory = proc.memory_full_info()
            seen.pss += memory.pss
            seen.rss += memory.rss
            seen.threads += proc.num_threads()
            seen.fds += proc.num_fds()
            seen.processes += 1
        except psutil.NoSuchProcess:
            pass
    return seen


@contextmanager
def peak_footprint(pid: int, interval: float = 0.5) -> Iterator[Footprint]:
    """The most of each of footprint(pid)'s figures while the block runs; final once it ends."""
    result = Footprint()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result.most(footprint(pid))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()


def stop_tree(process: subprocess.Popen, timeout: float = 5) -> None:
    """SIGTERM to the root; whatever of its tree is left after `timeout` (a worker still draining) is killed."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    stop(process, timeout=timeout)
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
