"""Running wisdom's entry points (manage.py, gunicorn, scripts) as a person would, in a controlled environment."""

import os
import subprocess
import sys

from tests.helpers.processes import ROOT

# What production must set; the database and the cache are never connected to by the tests using it.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "wisdom.settings",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wisdom_settings_never_connected",
    "CACHE_URL": "redis://127.0.0.1:6379/15",
    "INTUNO_AGENTS_API_KEY": "a-production-agents-key",
}


def clean_env(**env: str) -> dict[str, str]:
    """A shell's environment with none of wisdom's settings, and no .env file read unless `env` names one."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    return {**base, "WISDOM_ENV_FILE": os.devnull, **env}


def run(command: list[str], *, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run_python(args: list[str], *, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run([sys.executable, *args], env=env, timeout=timeout)


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python(["manage.py", *args], env=env)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The single `wisdom: ...` line a refused start-up prints, after checking it is all there is."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("wisdom: "), result.stderr
    return lines[0]
