"""Start-up refuses a missing or malformed setting, naming it; production passes check --deploy."""

import re

import pytest

from tests.helpers.processes import ROOT, free_port
from wisdom.tests.startup import PRODUCTION_ENV, clean_env, manage, one_line_error, run_python


def _setup(**env: str):
    return run_python(["-c", "import django; django.setup(); print('started')"], env=clean_env(**env))


def _print_settings(expression: str, **env: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    result = run_python(["-c", code], env=clean_env(**env))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_settings_start():
    assert _setup(**PRODUCTION_ENV).stdout.strip() == "started"


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "INTUNO_AGENTS_API_KEY"])
def test_a_missing_production_secret_stops_start_up_naming_it(name):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}

    result = manage("check", env=clean_env(**env))

    assert name in one_line_error(result)


def test_production_hashes_passwords_with_argon2_first():
    hasher = _print_settings("s.PASSWORD_HASHERS[0]", **PRODUCTION_ENV)

    assert hasher == "accounts.hashers.ThreadedArgon2PasswordHasher"


def test_debug_runs_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

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
        ("PERSONAL_STREAM_CAPACITY", "0"),
        ("PERSONAL_STREAM_LEASE_SECONDS", "20"),  # under twice the 15 s keep-alive: a silent stream's place lapses
        ("PERSONAL_PRO_TIER_CONCURRENT_STREAMS", "1001"),
    ],
)
def test_malformed_setting_stops_start_up_naming_it(name, value):
    result = manage("check", env=clean_env(**{**PRODUCTION_ENV, name: value}))

    assert name in one_line_error(result)


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(**PRODUCTION_ENV))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_enterprise_cap_is_unlimited_by_default_and_empty_means_no_cap():
    caps = "s.PERSONAL_FREE_TIER_ENTITY_CAP, s.PERSONAL_PRO_TIER_ENTITY_CAP, s.PERSONAL_ENTERPRISE_TIER_ENTITY_CAP"

    defaults = _print_settings(caps, **PRODUCTION_ENV)
    emptied = _print_settings(caps, **PRODUCTION_ENV, PERSONAL_FREE_TIER_ENTITY_CAP="")

    assert defaults.split() == ["1", "3", "None"]
    assert emptied.split() == ["None", "3", "None"]


@pytest.mark.parametrize("name", ["DATABASE_URL", "CACHE_URL"])
@pytest.mark.parametrize("unset", ["missing", "empty"])
def test_production_without_a_shared_database_or_cache_stops_start_up_naming_it(name, unset):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
    if unset == "empty":
        env[name] = ""

    result = manage("check", env=clean_env(**env))

    line = one_line_error(result)
    assert name in line
    assert "WISDOM_EMBEDDED_STORES" in line


def test_gunicorn_in_production_without_a_shared_cache_refuses_to_start():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CACHE_URL"}
    env.update(GUNICORN_BIND=f"127.0.0.1:{free_port()}", WEB_CONCURRENCY="1")

    command = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"]
    result = run_python(command, env=clean_env(**env), timeout=60)

    assert "CACHE_URL" in one_line_error(result)


def test_production_runs_on_the_embedded_stores_only_when_opted_in():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("DATABASE_URL", "CACHE_URL")}

    stores = _print_settings(
        "s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND']", **env, WISDOM_EMBEDDED_STORES="true"
    )

    assert stores.split() == ["django.db.backends.sqlite3", "django.core.cache.backends.locmem.LocMemCache"]


def test_a_redis_cache_url_selects_wisdoms_redis_backend_with_its_time_outs():
    backend, options = _print_settings(
        "s.CACHES['default']['BACKEND'], s.CACHES['default']['OPTIONS']", **PRODUCTION_ENV
    ).split(" ", 1)

    assert backend == "wisdom.redis_cache.RedisCache"
    assert "'socket_timeout': 0.5" in options and "'socket_connect_timeout': 0.5" in options


def test_debug_runs_on_the_embedded_stores_without_opting_in():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in ("DATABASE_URL", "CACHE_URL")}

    assert _setup(**env, DJANGO_DEBUG="true").stdout.strip() == "started"


SECRETS = ["DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "INTUNO_AGENTS_API_KEY", "AGENTS_SERVICE_API_KEY"]


def _copy_of_env_example(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    return env_file


def test_an_unfilled_copy_of_env_example_is_refused_naming_the_secret_key(tmp_path):
    env_file = _copy_of_env_example(tmp_path)

    result = manage("check", env=clean_env(WISDOM_ENV_FILE=str(env_file)))

    assert "DJANGO_SECRET_KEY" in one_line_error(result)


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "INTUNO_AGENTS_API_KEY"])
def test_a_secret_left_empty_in_a_copy_of_env_example_is_refused_not_read_as_its_comment(tmp_path, name):
    env_file = _copy_of_env_example(tmp_path)
    everything_else = {k: v for k, v in PRODUCTION_ENV.items() if k != name}

    result = manage("check", env=clean_env(WISDOM_ENV_FILE=str(env_file), **everything_else))

    assert name in one_line_error(result)


def test_debug_starts_from_an_unfilled_copy_of_env_example(tmp_path):
    env_file = _copy_of_env_example(tmp_path)

    result = manage("check", env=clean_env(WISDOM_ENV_FILE=str(env_file), DJANGO_DEBUG="true"))

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SECRETS)
@pytest.mark.parametrize(
    "value",
    [
        "# REQUIRED unless DJANGO_DEBUG; 32+ random characters",
        "#a-comment-without-spaces-0123456789abcdefghij",
        "change-me-to-a-long-random-string-0123456789",
        "CHANGEME0123456789abcdefghijklmnopqrstuvwxyz",
        "<your-secret-key-of-32-random-characters-here>",
        "REQUIRED-0123456789abcdefghijklmnopqrstuvwxyz",
        "placeholder-0123456789abcdefghijklmnopqrstuvw",
        "an-example-key-0123456789abcdefghijklmnopqrst",
        "a key with spaces 0123456789abcdefghijklmnopq",
        "   ",
    ],
    ids=[
        "comment",
        "hash",
        "change-me",
        "changeme",
        "angle-brackets",
        "required",
        "placeholder",
        "example",
        "spaces",
        "blank",
    ],
)
def test_a_secret_that_looks_like_a_comment_or_a_placeholder_is_refused_naming_it(name, value):
    result = manage("check", env=clean_env(**{**PRODUCTION_ENV, name: value}))

    line = one_line_error(result)
    assert name in line
    assert value.strip() not in line or not value.strip()


def test_one_placeholder_among_the_service_keys_is_refused():
    env = {**PRODUCTION_ENV, "AGENTS_SERVICE_API_KEY": "a-real-service-key-0123456789,change-me"}

    assert "AGENTS_SERVICE_API_KEY" in one_line_error(manage("check", env=clean_env(**env)))


def test_a_placeholder_secret_is_refused_under_debug_too():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": "change-me-0123456789abcdefghijklmnopqrstuvwxyz",
    }

    assert "DJANGO_SECRET_KEY" in one_line_error(manage("check", env=clean_env(**env)))


def test_env_example_keeps_comments_off_the_setting_lines():
    settings_lines = [
        line.removeprefix("# ")
        for line in (ROOT / ".env.example").read_text().splitlines()
        if re.match(r"^(# )?[A-Z][A-Z0-9_]*=", line)
    ]

    assert len(settings_lines) > 40
    assert [line for line in settings_lines if "#" in line or line != line.rstrip()] == []


def test_the_email_defaults_written_out_are_djangos_own():
    from django.conf import global_settings

    from wisdom.env import EMAIL_URL_SETTINGS

    assert EMAIL_URL_SETTINGS == {name: getattr(global_settings, name, None) for name in EMAIL_URL_SETTINGS}
