"""gunicorn.conf.py as the master reads it: nothing loaded that a gevent worker must patch first, and one control
socket per instance (or none), never one shared by every master on the host."""

import json

import pytest
import requests

from tests.helpers.live import wisdom_server
from tests.helpers.processes import ROOT
from wisdom.tests.startup import PRODUCTION_ENV, clean_env, run_python

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

MASTER_IMPORTS = """
import sys
from gunicorn.app.wsgiapp import WSGIApplication
sys.argv = ["gunicorn", "-c", "gunicorn.conf.py", "wisdom.wsgi:application"]
application = WSGIApplication()
application.cfg.logger_class(application.cfg).info("the master logs its own lines through wisdom's filters")
print(application.cfg.worker_class.__name__)
WATCHED = ("concurrent.futures", "django.conf", "psycopg", "gevent.monkey")
print(sorted(name for name in WATCHED if name in sys.modules and (
    name != "gevent.monkey" or sys.modules["gevent.monkey"].is_anything_patched())))
"""


def test_the_master_loads_its_config_and_worker_class_without_importing_what_a_worker_patches():
    result = run_python(["-c", MASTER_IMPORTS], env=clean_env(**PRODUCTION_ENV))

    assert result.returncode == 0, result.stderr
    worker_class, loaded = result.stdout.strip().splitlines()
    assert worker_class == "DrainingGeventWorker"
    assert loaded == "[]"  # concurrent.futures holds real threads once imported (gunicorn issue #3482)


def test_an_instance_has_its_own_control_socket_when_asked_and_none_by_default(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shared = {"HOME": str(home), "XDG_RUNTIME_DIR": ""}  # gunicorn's default would be $HOME/.gunicorn/gunicorn.ctl
    own = tmp_path / "b.ctl"
    with wisdom_server(tmp_path, **shared):  # none asked for
        with wisdom_server(tmp_path, GUNICORN_CONTROL_SOCKET=str(own), **shared):
            own_while_running = own.exists()
        default_made = (home / ".gunicorn" / "gunicorn.ctl").exists()

    assert own_while_running
    assert not default_made


REPORTING_CONFIG = """
import gc, json, os
exec(open(os.path.join({root!r}, "gunicorn.conf.py")).read())


def post_worker_init(worker):
    with open({report!r}, "w") as report:
        json.dump({{"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}}, report)
"""


def test_a_worker_freezes_what_start_up_made_and_scans_young_objects_rarely(tmp_path):
    report = tmp_path / "collector.json"
    config = tmp_path / "reporting.conf.py"
    config.write_text(REPORTING_CONFIG.format(root=str(ROOT), report=str(report)))

    with wisdom_server(tmp_path, config=str(config)) as server:
        answered = requests.get(f"{server.url}/healthz", timeout=10)
        collector = json.loads(report.read_text())

    assert answered.status_code == 200
    assert collector["thresholds"] == [50_000, 20, 10]  # CPython's default is (700, 10, 10)
    assert collector["frozen"] > 50_000  # Django and the apps, loaded before the worker's first request


CLIENT_REPORTING_CONFIG = """
import json, os
exec(open(os.path.join({root!r}, "gunicorn.conf.py")).read())
_configured_post_worker_init = post_worker_init


def post_worker_init(worker):
    import personal.client

    built_before = personal.client._client is not None
    _configured_post_worker_init(worker)
    with open({report!r}, "w") as report:
        json.dump({{"built_before": built_before, "base_url": personal.client._client.base_url}}, report)
"""


def test_a_worker_builds_its_agents_client_before_its_first_request(tmp_path):
    report = tmp_path / "client.json"
    config = tmp_path / "reporting.conf.py"
    config.write_text(CLIENT_REPORTING_CONFIG.format(root=str(ROOT), report=str(report)))

    with wisdom_server(tmp_path, config=str(config), INTUNO_AGENTS_BASE_URL="http://agents.internal:8080/") as server:
        answered = requests.get(f"{server.url}/healthz", timeout=10)
        client = json.loads(report.read_text())

    assert answered.status_code == 200
    assert client == {"built_before": False, "base_url": "http://agents.internal:8080"}
