"""What loading the WSGI application prepares before the first request."""

from wisdom.tests.startup import PRODUCTION_ENV, clean_env, run_python

REPORT_THE_CLIENT = "import wisdom.wsgi, personal.client as c; print(c._client.base_url if c._client else None)"


def test_loading_the_application_builds_the_agents_client_before_any_request():
    env = clean_env(**PRODUCTION_ENV, INTUNO_AGENTS_BASE_URL="http://agents.internal:8080/")

    result = run_python(["-c", REPORT_THE_CLIENT], env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://agents.internal:8080"


def test_django_alone_leaves_the_agents_client_to_its_first_use():
    code = "import django; django.setup(); import personal.client as c; print(c._client)"

    result = run_python(["-c", code], env=clean_env(**PRODUCTION_ENV))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "None"
