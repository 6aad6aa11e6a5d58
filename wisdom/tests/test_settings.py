"""Start-up refuses a missing or malformed setting, naming it; production passes check --deploy."""

import os
import subprocess
import sys

import pytest

from tests.helpers.processes import ROOT

PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "wisdom.settings",
    "DJANGO_SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "INTUNO_AGENTS_API_KEY": "a-production-agents-key",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "JWT_", "PERSONAL_", "INTUNO_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def _setup(**env: str) -> subprocess.CompletedProcess:
    return _run(["-c", "import django; django.setup(); print('started')"], **env)


def test_production_settings_start():
    assert _setup(**PROD_ENV).stdout.strip() == "started"


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "INTUNO_AGENTS_API_KEY"])
def test_a_missing_production_secret_stops_start_up_naming_it(name):
    env = {k: v for k, v in PROD_ENV.items() if k != name}

    result = _setup(**env)

    assert result.returncode != 0
    assert name in result.stderr


def test_production_hashes_passwords_with_argon2_first():
    result = _run(
        ["-c", "import django; django.setup(); from django.conf import settings as s; print(s.PASSWORD_HASHERS[0])"],
        **PROD_ENV,
    )

    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_debug_runs_without_a_secret_key():
    env = {k: v for k, v in PROD_ENV.items() if k != "DJANGO_SECRET_KEY"}

    assert _setup(**env, DJANGO_DEBUG="true").returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("JWT_ACCESS_TOKEN_MINUTES", "thirty"),
        ("JWT_REFRESH_TOKEN_DAYS", "0"),
        ("PERSONAL_FREE_TIER_ENTITY_CAP", "one"),
        ("INTUNO_AGENTS_TIMEOUT_SECONDS", "-1"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_malformed_setting_stops_start_up_naming_it(name, value):
    result = _setup(**PROD_ENV, **{name: value})

    assert result.returncode != 0
    assert name in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PROD_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_enterprise_cap_is_unlimited_by_default_and_empty_means_no_cap():
    code = "from django.conf import settings as s; print(s.PERSONAL_FREE_TIER_ENTITY_CAP, s.PERSONAL_PRO_TIER_ENTITY_CAP, s.PERSONAL_ENTERPRISE_TIER_ENTITY_CAP)"  # noqa: E501

    defaults = _run(["-c", f"import django; django.setup(); {code}"], **PROD_ENV)
    emptied = _run(["-c", f"import django; django.setup(); {code}"], **PROD_ENV, PERSONAL_FREE_TIER_ENTITY_CAP="")

    assert defaults.stdout.split() == ["1", "3", "None"]
    assert emptied.stdout.split() == ["None", "3", "None"]
