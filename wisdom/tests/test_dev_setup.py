"""A first-time user on a fresh machine: `make run` writes a development .env once, after which every manage.py
command the README shows works in a second terminal exactly as printed; `make test` passes without Chromium.
Each test writes its own .env (WISDOM_ENV_FILE) and database, never the developer's."""

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.helpers.constants import PASSWORD
from tests.helpers.processes import ROOT, free_port, wait_until_up
from wisdom.tests.startup import clean_env, manage, run, run_python

SUPERUSER = {"DJANGO_SUPERUSER_EMAIL": "admin@example.com", "DJANGO_SUPERUSER_PASSWORD": PASSWORD}


def _write_dev_env(env_file, **env: str):
    """What `make run` does first (scripts/dev-run), in a shell with none of wisdom's settings."""
    result = run_python(["scripts/dev_env.py"], env=clean_env(WISDOM_ENV_FILE=str(env_file), **env))
    assert result.returncode == 0, result.stderr
    return result


def _parse(env_file) -> dict[str, str]:
    values = {}
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_make_run_writes_a_private_development_env_with_a_fresh_secret_once(tmp_path):
    first, second = tmp_path / "first.env", tmp_path / "second.env"

    _write_dev_env(first)
    written = first.read_bytes()
    _write_dev_env(first, WISDOM_PORT="9000")
    _write_dev_env(second)

    values = _parse(first)
    assert first.read_bytes() == written
    assert values["DJANGO_DEBUG"] == "true"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    assert values["DJANGO_SECRET_KEY"] != _parse(second)["DJANGO_SECRET_KEY"]
    assert stat.S_IMODE(first.stat().st_mode) == 0o600


def test_an_existing_env_file_is_never_overwritten(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=the-developers-own-secret-key-0123456789abcdef\n")

    _write_dev_env(env_file)

    assert (
        env_file.read_text() == "DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=the-developers-own-secret-key-0123456789abcdef\n"
    )


def test_readme_manage_py_commands_work_in_a_second_terminal_once_make_run_wrote_the_env(tmp_path):
    env_file = tmp_path / ".env"
    _write_dev_env(env_file)
    # DATABASE_URL only keeps the developer's db.sqlite3 out of the test; the .env supplies everything else.
    terminal = clean_env(WISDOM_ENV_FILE=str(env_file), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    migrated = manage("migrate", "--noinput", env=terminal)
    superuser = manage("createsuperuser", "--noinput", env={**terminal, **SUPERUSER})
    invite = manage("create_invite", "--json", env=terminal)

    assert migrated.returncode == 0, migrated.stderr
    assert superuser.returncode == 0, superuser.stderr
    assert invite.returncode == 0, invite.stderr
    assert json.loads(invite.stdout)["url"].startswith("http://127.0.0.1:8000/personal/invite?token=")


@pytest.fixture
def dev_run(tmp_path):
    """scripts/dev-run (what `make run` runs) on free ports, its own .env, database and static files."""
    ports = {"WISDOM_PORT": str(free_port()), "AGENTS_DOUBLE_PORT": str(free_port())}
    env_file = tmp_path / ".env"
    terminal = clean_env(WISDOM_ENV_FILE=str(env_file), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    env = {**terminal, **ports, "WISDOM_PYTHON": sys.executable, "DJANGO_STATIC_ROOT": str(tmp_path / "static")}
    log_path = tmp_path / "dev-run.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["scripts/dev-run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until_up(f"http://127.0.0.1:{ports['WISDOM_PORT']}/healthz", process, timeout=120)
        yield SimpleNamespace(
            port=int(ports["WISDOM_PORT"]),
            agents_port=int(ports["AGENTS_DOUBLE_PORT"]),
            terminal=terminal,
            log=log_path,
        )
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the script's group: the script, gunicorn and the double
        process.wait(timeout=30)


@pytest.mark.live
def test_make_run_serves_on_the_ports_it_is_given_and_points_its_addresses_at_them(dev_run):
    url = f"http://127.0.0.1:{dev_run.port}"
    superuser = manage("createsuperuser", "--noinput", env={**dev_run.terminal, **SUPERUSER})
    login = requests.post(
        f"{url}/auth/login",
        json={"email": SUPERUSER["DJANGO_SUPERUSER_EMAIL"], "password": SUPERUSER["DJANGO_SUPERUSER_PASSWORD"]},
        timeout=30,
    )
    entities = requests.get(
        f"{url}/personal/entities", headers={"Authorization": f"Bearer {login.json()['access_token']}"}, timeout=30
    )
    seen_by_double = requests.get(f"http://127.0.0.1:{dev_run.agents_port}/__requests", timeout=10)
    invite = manage("create_invite", "--json", env=dev_run.terminal)

    assert superuser.returncode == 0, superuser.stderr
    assert login.status_code == 200
    assert entities.status_code == 200
    assert entities.json() == []
    assert any(r["path"].startswith("/entities") for r in seen_by_double.json())
    assert json.loads(invite.stdout)["url"].startswith(f"{url}/personal/invite?token=")
    assert f"{url}/api/docs" in dev_run.log.read_text()


def test_make_run_passes_its_port_variables_on():
    result = run(["make", "--dry-run", "run", "PORT=9000", "AGENTS_PORT=9001"], env=clean_env())

    assert "WISDOM_PORT=9000" in result.stdout
    assert "AGENTS_DOUBLE_PORT=9001" in result.stdout


def test_make_test_on_a_machine_without_chromium_skips_the_browser_test_saying_why(tmp_path):
    no_chromium = clean_env(PATH=str(Path(sys.executable).parent), DJANGO_TEST_SQLITE_FILE=str(tmp_path / "t.sqlite3"))

    result = run_python(
        ["-m", "pytest", "-p", "no:cacheprovider", "-ra", "tests/test_invites_admin_browser.py"], env=no_chromium
    )

    assert result.returncode == 0, result.stdout
    assert "passed" not in result.stdout
    assert re.search(r"SKIPPED .*Chromium and chromedriver are not installed", result.stdout), result.stdout
