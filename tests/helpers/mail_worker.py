"""`manage.py mail_worker` as a real process, on the test database, sending to a given SMTP URL."""

import os
import subprocess
import sys

from tests.helpers.live import BASE_ENV, test_database_url
from tests.helpers.processes import ROOT


def worker_env(email_url: str | None, **env: str) -> dict[str, str]:
    full = {**os.environ, **BASE_ENV, "DATABASE_URL": test_database_url(), **env}
    full.pop("EMAIL_URL", None)
    if email_url is not None:
        full["EMAIL_URL"] = email_url
    return full


def run_mail_worker_once(email_url: str | None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """`mail_worker --once`: sends what is due, then exits; its stdout says what it did."""
    return subprocess.run(
        [sys.executable, "manage.py", "mail_worker", "--once"],
        cwd=ROOT,
        env=worker_env(email_url, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_mail_worker(email_url: str, log_path, **env: str) -> subprocess.Popen:
    """`mail_worker` running until it is sent SIGTERM."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "mail_worker"],
            cwd=ROOT,
            env=worker_env(email_url, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
