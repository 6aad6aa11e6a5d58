"""The double as a real subprocess on a free port, and a handle to flip its switches and read what it saw."""

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.helpers.processes import ROOT, free_port, stop, wait_until_up


class DoubleProcess:
    """`python -m agents_double` in a subprocess; control calls use their own short-lived connections."""

    def __init__(self, *, api_key: str, port: int | None = None, log_path: Path | None = None, args: tuple = ()):
        self.api_key = api_key
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.args = tuple(args)
        self.process: subprocess.Popen | None = None

    # --- life cycle -----------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "DoubleProcess":
        command = [sys.executable, "-m", "agents_double", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--api-key", self.api_key, *self.args]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        wait_until_up(f"{self.url}/__health", self.process, timeout=timeout)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process, timeout=5)

    def restart(self) -> None:
        """Same port, empty state: what a redeployed agents service looks like to pooled connections."""
        self.stop()
        self.start()

    # --- control --------------------------------------------------------------------------

    def _control(self, method: str, path: str, json: dict | None = None):
        response = requests.request(method, f"{self.url}{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Entities, recorded requests, switches and counters all cleared."""
        self._control("POST", "/__reset")

    def switch(self, **switches) -> dict:
        """e.g. switch(latency_ms=200, latency_match="chat$") or switch(fault="canned", fault_status=503)."""
        return self._control("POST", "/__control", switches)

    def clear_switches(self) -> dict:
        return self._control("DELETE", "/__control")

    def received(self) -> list[dict]:
        """Every agents API request received: method, path (raw, with the query), headers, body."""
        return self._control("GET", "/__requests")

    def clear_received(self) -> None:
        self._control("DELETE", "/__requests")

    def stats(self) -> dict:
        """connections (that carried API calls), requests, in_flight, max_in_flight."""
        return self._control("GET", "/__stats")

    def streams(self) -> list[dict]:
        """Each streamed chat: request_id, deltas_sent, first_delta_ns (CLOCK_MONOTONIC), outcome, ended_ns."""
        return self._control("GET", "/__streams")

    def entities(self) -> list[dict]:
        """Everything the double holds, whoever owns it."""
        return self._control("GET", "/__entities")

    def seed_entity(self, *, name: str, owner_id: str, **fields) -> requests.Response:
        """Straight through the agents API on a connection of its own (wisdom's pool is left as it was)."""
        return requests.post(
            f"{self.url}/entities",
            json={"name": name, **fields},
            headers={"X-API-Key": self.api_key, "X-User-Id": owner_id},
            timeout=10,
        )


@contextlib.contextmanager
def running_double(
    *, api_key: str, port: int | None = None, log_path: Path | None = None, args: tuple = ()
) -> Iterator[DoubleProcess]:
    double = DoubleProcess(api_key=api_key, port=port, log_path=log_path, args=args).start()
    try:
        yield double
    finally:
        double.stop()
