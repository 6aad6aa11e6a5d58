"""The committed deploy files say what the code does: Kubernetes manifests valid against the schemas (offline)
with the fields that matter, docker-compose publishing only nginx, nginx's config rendered from its template and
matching wisdom's limits, and alert rules and the dashboard naming only metrics wisdom exports."""

import json
import re

import kubernetes_validate
import pytest
import yaml
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.nginx import _renderer
from tests.helpers.processes import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
MANIFESTS = sorted(K8S.glob("*.yaml"))


def _load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


def _api_container(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_kubernetes_manifest_is_valid_against_the_schemas_strictly(path):
    for document in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_the_deployment_probes_readiness_on_readyz_and_liveness_on_healthz():
    container = _api_container(_load("deployment.yaml"))

    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert {probe["httpGet"]["port"] for probe in (container["readinessProbe"], container["livenessProbe"])} == {"http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]


def test_the_grace_period_covers_the_pre_stop_pause_and_gunicorns_graceful_timeout_which_covers_a_chat():
    deployment = _load("deployment.yaml")
    config = _load("configmap.yaml")["data"]
    container = _api_container(deployment)
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    graceful = int(config["GUNICORN_GRACEFUL_TIMEOUT"])
    chat = int(config["INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS"])

    assert graceful >= chat + 10  # what gunicorn.conf.py itself insists on
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > pre_stop + graceful


def test_every_container_asks_for_cpu_and_memory_and_is_capped_in_memory():
    for name in ("deployment.yaml", "migrate-job.yaml"):
        for container in _load(name)["spec"]["template"]["spec"]["containers"]:
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, name
            assert "memory" in resources["limits"], name


def test_a_rollout_never_lowers_the_ready_replicas_and_a_drain_keeps_one():
    deployment = _load("deployment.yaml")
    budget = _load("pdb.yaml")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]

    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert _load("service.yaml")["spec"]["selector"].items() <= pod_labels.items()


def test_the_autoscaler_scales_the_deployment_on_cpu():
    hpa = _load("hpa.yaml")

    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "wisdom"}
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    assert hpa["spec"]["minReplicas"] >= 2


def test_migrations_run_as_a_job_and_the_secret_template_holds_no_secret():
    job = _load("migrate-job.yaml")
    secret = _load("secret.example.yaml")

    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "manage.py",
        "migrate",
        "--noinput",
    ]
    assert set(secret["stringData"].values()) == {""}
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "CACHE_URL", "INTUNO_AGENTS_API_KEY"} <= set(secret["stringData"])


# --- docker-compose and nginx -------------------------------------------------------------------------------


def test_compose_publishes_only_nginx_in_front_of_two_replicas_that_trust_exactly_that_hop():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    nginx_address = services["nginx"]["networks"]["wisdom"]["ipv4_address"]

    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]
    for name in ("api-a", "api-b"):
        env = services[name]["environment"]
        assert env["NUM_PROXIES"] == "1"
        assert env["FORWARDED_ALLOW_IPS"] == nginx_address
        assert int(services[name]["stop_grace_period"].rstrip("s")) > 70  # gunicorn's graceful_timeout
    upstreams = re.findall(r"server (\S+) max_fails", (DEPLOY / "nginx" / "compose.conf").read_text())
    assert upstreams == ["api-a:8000", "api-b:8000"]


def test_the_committed_compose_nginx_config_is_the_template_rendered():
    renderer = _renderer()

    assert (DEPLOY / "nginx" / "compose.conf").read_text() == renderer.render(**renderer.COMPOSE)


def test_nginx_refuses_bodies_over_wisdoms_limit_and_waits_for_replicas_longer_than_a_chat():
    renderer = _renderer()
    config = renderer.render(**renderer.COMPOSE)

    assert f"client_max_body_size {settings.REQUEST_BODY_MAX_BYTES};" in config
    read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", config).group(1))
    assert read_timeout > settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS
    assert "non_idempotent" not in config.split("#")[0]


# --- alerts and dashboard -----------------------------------------------------------------------------------


@pytest.fixture
def exported_metric_names(client, db) -> set[str]:
    client.get("/healthz")
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    for family in list(names):  # families with no sample yet (labelled ones) still have their suffixed series
        names.update(f"{family}{suffix}" for suffix in ("_total", "_bucket", "_count", "_sum"))
    return names


def _metric_names_in(expression: str) -> set[str]:
    return set(re.findall(r"\bwisdom_[a-z_]+", expression))


def test_every_alert_rule_names_only_metrics_wisdom_exports(exported_metric_names):
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}

    assert {"WisdomUpstreamErrorRatio", "WisdomHighLatencyP99", "WisdomDatabasePoolExhausted"} <= set(alerts)
    for name, expression in alerts.items():
        assert _metric_names_in(expression), name
        assert _metric_names_in(expression) <= exported_metric_names, name


def test_every_dashboard_panel_names_only_metrics_wisdom_exports(exported_metric_names):
    dashboard = json.loads((DEPLOY / "grafana" / "wisdom-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]

    assert len(expressions) >= 10
    used = set().union(*(_metric_names_in(expression) for expression in expressions))
    assert used <= exported_metric_names
    assert {"wisdom_db_pool_wait_seconds_total", "wisdom_refusals_total", "wisdom_http_open_streams"} <= used
