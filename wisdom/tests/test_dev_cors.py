"""CORS for a frontend's development server: open to the usual local origins under DJANGO_DEBUG (`make run`),
explicit in production. Asked of a fresh process, as `make run` and gunicorn would start one."""

from wisdom.tests.startup import PRODUCTION_ENV, clean_env, run_python

PREFLIGHT = """
import django; django.setup()
from django.test import Client
answer = Client().options(
    "/auth/login",
    secure=True,
    headers={"Host": "api.example.com", "Origin": "{origin}", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"},
)
print(answer.headers.get("Access-Control-Allow-Origin"))
"""


def _allowed_origin(origin: str, **env: str) -> str:
    result = run_python(["-c", PREFLIGHT.replace("{origin}", origin)], env=clean_env(**PRODUCTION_ENV, **env))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_under_debug_a_vite_or_next_dev_server_on_localhost_may_call_the_api():
    allowed = [
        _allowed_origin(origin, DJANGO_DEBUG="true")
        for origin in ("http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000")
    ]

    assert allowed == ["http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:3000"]


def test_under_debug_another_origin_may_not():
    assert _allowed_origin("http://evil.example:5173", DJANGO_DEBUG="true") == "None"


def test_in_production_no_origin_is_allowed_unless_configured():
    assert _allowed_origin("http://localhost:5173") == "None"
    assert _allowed_origin("https://app.example.com", CORS_ALLOWED_ORIGINS="https://app.example.com") == (
        "https://app.example.com"
    )


def test_a_configured_list_replaces_the_development_one():
    env = {"DJANGO_DEBUG": "true", "CORS_ALLOWED_ORIGINS": "http://localhost:8080"}

    assert [_allowed_origin(o, **env) for o in ("http://localhost:8080", "http://localhost:5173")] == [
        "http://localhost:8080",
        "None",
    ]
