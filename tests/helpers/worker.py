"""`manage.py worker` as real processes, on the test database, calling the agents double and sending to an SMTP URL."""

import subprocess
import sys
from pathlib import Path

from tests.helpers.mail_worker import worker_env
from tests.helpers.processes import ROOT


def _env(double, email_url: str, env: dict[str, str]) -> dict[str, str]:
    return worker_env(
        email_url,
        INTUNO_AGENTS_BASE_URL=double.url,
        INTUNO_AGENTS_API_KEY=double.api_key,
        WORKER_POLL_SECONDS="0.2",
        **env,
    )


def run_worker_once(double, email_url: str = "dummymail://", timeout: float = 120, **env: str) -> str:
    """`worker --once`: does what is due, then exits; its summary, one line per job."""
    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--once"],
        cwd=ROOT,
        env=_env(double, email_url, env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def start_worker(double, log_path: Path, email_url: str = "dummymail://", **env: str) -> subprocess.Popen:
    """`worker` running until it is sent SIGTERM (or killed)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=_env(double, email_url, env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
