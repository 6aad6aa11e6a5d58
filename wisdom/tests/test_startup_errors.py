"""A setting that stops start-up is one line on stderr naming it, and a non-zero exit: never a traceback."""

import pytest

from tests.helpers.processes import free_port
from wisdom.tests.startup import PRODUCTION_ENV, clean_env, manage, one_line_error, run_python

WITHOUT_SECRET_KEY = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}


@pytest.mark.parametrize(
    "command",
    [["check"], ["createsuperuser", "--noinput"], ["create_invite"], ["migrate", "--noinput"]],
    ids=lambda command: command[0],
)
def test_a_manage_py_command_with_a_missing_setting_prints_one_line_naming_it(command):
    result = manage(*command, env=clean_env(**WITHOUT_SECRET_KEY))

    line = one_line_error(result)
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY" in line


def test_a_malformed_setting_is_one_line_too():
    result = manage("check", env=clean_env(**PRODUCTION_ENV, JWT_ACCESS_TOKEN_MINUTES="thirty"))

    assert "JWT_ACCESS_TOKEN_MINUTES" in one_line_error(result)


def test_importing_the_wsgi_application_with_a_missing_setting_prints_one_line_naming_it():
    result = run_python(["-c", "import wisdom.wsgi"], env=clean_env(**WITHOUT_SECRET_KEY))

    assert "DJANGO_SECRET_KEY" in one_line_error(result)


def test_gunicorn_with_a_missing_setting_exits_with_one_line_naming_it():
    env = clean_env(**WITHOUT_SECRET_KEY, GUNICORN_BIND=f"127.0.0.1:{free_port()}", WEB_CONCURRENCY="1")

    result = run_python(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"], env=env, timeout=60)

    line = one_line_error(result)
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY" in line
