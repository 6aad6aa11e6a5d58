"""wisdom replicas as a deploy sees them: gunicorn processes on fixed ports that can be stopped, restarted on
the same port, reloaded (SIGHUP) or killed outright, each in front of the same database (and cache, and double)."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import redis
import requests

from tests.helpers.live import BASE_ENV, test_database_url
from tests.helpers.processes import ROOT, free_port


class Replica:
    def __init__(self, tmp_path: Path, *, name: str, workers: int = 1, threads: int = 16, double=None, **env: str):
        self.name = name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.address}"
        self.log_path = tmp_path / f"replica-{name}-{self.port}.log"
        self.env = {
            **os.environ,
            **BASE_ENV,
            "DATABASE_URL": test_database_url(),
            "GUNICORN_BIND": self.address,
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
            **({"INTUNO_AGENTS_BASE_URL": double.url, "INTUNO_AGENTS_API_KEY": double.api_key} if double else {}),
            **env,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each master makes its own
        self.process: subprocess.Popen | None = None

    # --- life cycle -----------------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> "Replica":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"replica {self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"replica {self.name} was not ready within {timeout}s")

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as a deploy sends it, and the wait for the master to exit; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def restart(self) -> None:
        self.terminate()
        self.start()

    def reload(self) -> None:
        self.process.send_signal(signal.SIGHUP)

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def kill_hard(self) -> None:
        """SIGKILL to the master and its workers at once: a container whose main process is killed."""
        processes = [psutil.Process(self.process.pid), *self.workers()]
        for process in processes:
            process.send_signal(signal.SIGKILL)
        psutil.wait_procs(processes, timeout=10)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_hard()

    # --- what it says ---------------------------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> str:
        response = requests.get(f"{self.url}/metrics", timeout=10)
        response.raise_for_status()
        return response.text


def metric_samples(text: str) -> list:
    """Every sample of a /metrics answer (prometheus_client's own parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def metric_sum(texts: list[str], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`, over several replicas' answers."""
    return sum(
        sample.value
        for text in texts
        for sample in metric_samples(text)
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


class SteadyLoad:
    """Threads each sending one request after another (a new connection each) until stopped; every status kept."""

    def __init__(self, send, *, threads: int = 2, pause: float = 0.02):
        import threading

        self.send = send
        self.pause = pause
        self.statuses: list[int | str] = []
        self.failed_bodies: list[str] = []  # what each non-2xx answer said, for the assertion message
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.send()
                self.statuses.append(response.status_code)
                if not 200 <= response.status_code < 300:
                    self.failed_bodies.append(response.text[:300])
            except requests.RequestException as e:
                self.statuses.append(type(e).__name__)
            time.sleep(self.pause)

    def __enter__(self) -> "SteadyLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def failures(self) -> list:
        return [status for status in self.statuses if not (isinstance(status, int) and 200 <= status < 300)]


@contextlib.contextmanager
def replica_pair(
    tmp_path: Path, *, double, redis_db: int, key_prefix: str, workers: int, threads: int, **env: str
) -> Iterator[list[Replica]]:
    """Replicas a and b with `env`, on one database and one double; started, then stopped however the block ends,
    and their keys (under `key_prefix` in Redis database `redis_db`) removed."""
    replicas = [Replica(tmp_path, name=name, workers=workers, threads=threads, double=double, **env) for name in "ab"]
    try:
        for replica in replicas:
            replica.start()
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()
        store = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
        for key in store.scan_iter(f"{key_prefix}*"):
            store.delete(key)
