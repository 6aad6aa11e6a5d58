"""/metrics in one process (no PROMETHEUS_MULTIPROC_DIR): what is counted, under which labels, and who may read it."""

import ipaddress

import pytest
import requests
from django.http import StreamingHttpResponse
from django.test import RequestFactory
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from personal.errors import (
    AgentsFailed,
    AgentsRefused,
    AgentsTimeout,
    AgentsUnreachable,
    EntityQuotaExceeded,
    StreamCapacityReached,
)
from tests.helpers.auth import on_behalf_of
from wisdom.errors import ApiError, ServiceUnavailable
from wisdom.exceptions import exception_handler
from wisdom.metrics import client_allowed, observe_request, upstream_operation, upstream_outcome

pytestmark = pytest.mark.django_db

LOCAL = "127.0.0.1"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client) -> str:
    response = client.get("/metrics", REMOTE_ADDR=LOCAL)
    assert response.status_code == 200
    return response.content.decode()


def test_a_request_is_counted_by_its_route_template_never_its_path(api_client, user):
    labels = {"method": "GET", "route": "personal/entities/<name>", "status": "401"}
    before = value("wisdom_http_requests_total", **labels)

    api_client.get("/personal/entities/my-secret-name")

    assert value("wisdom_http_requests_total", **labels) == before + 1
    assert value("wisdom_http_request_duration_seconds_count", **labels) == before + 1
    assert "my-secret-name" not in scrape(api_client)


def test_an_unknown_path_and_a_probe_have_labels_of_their_own(api_client):
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    probe = {"method": "GET", "route": "healthz", "status": "200"}
    before = value("wisdom_http_requests_total", **unmatched), value("wisdom_http_requests_total", **probe)

    api_client.get("/no/such/thing/9f1c")
    api_client.get("/healthz")

    assert value("wisdom_http_requests_total", **unmatched) == before[0] + 1
    assert value("wisdom_http_requests_total", **probe) == before[1] + 1
    assert "9f1c" not in scrape(api_client)


def test_an_unknown_method_is_labelled_other(api_client):
    before = value("wisdom_http_requests_total", method="other", route="auth/me", status="401")

    api_client.generic("BREW", "/auth/me")

    assert value("wisdom_http_requests_total", method="other", route="auth/me", status="401") == before + 1


def test_a_429_is_counted_by_its_kind_and_other_errors_are_not():
    class Quota(ApiError):
        status_code = 429
        default_code = "test_quota"

    class Conflict(ApiError):
        status_code = 409
        default_code = "test_conflict"

    exception_handler(Quota(), {})
    exception_handler(Quota(), {})
    exception_handler(Conflict(), {})

    assert value("wisdom_refusals_total", kind="test_quota") == 2
    assert value("wisdom_refusals_total", kind="test_conflict") == 0


def test_a_throttled_request_is_counted_as_throttled():
    from rest_framework.exceptions import Throttled

    before = value("wisdom_refusals_total", kind="throttled")

    exception_handler(Throttled(wait=3), {})

    assert value("wisdom_refusals_total", kind="throttled") == before + 1


def test_a_quota_refusal_is_counted_as_entity_quota_exceeded():
    before = value("wisdom_refusals_total", kind="entity_quota_exceeded")

    exception_handler(EntityQuotaExceeded(plan="free", limit=1), {})

    assert value("wisdom_refusals_total", kind="entity_quota_exceeded") == before + 1


def test_a_503_for_a_capacity_is_counted_by_its_code_and_the_databases_503_is_not():
    before = value("wisdom_refusals_total", kind="stream_capacity_reached")
    busy_before = value("wisdom_refusals_total", kind="service_unavailable")

    exception_handler(StreamCapacityReached(), {})
    exception_handler(ServiceUnavailable(), {})

    assert value("wisdom_refusals_total", kind="stream_capacity_reached") == before + 1
    assert value("wisdom_refusals_total", kind="service_unavailable") == busy_before


@pytest.mark.parametrize(
    "method, path, operation",
    [
        ("GET", "/entities", "GET /entities"),
        ("GET", "/entities/ada", "GET /entities/{name}"),
        ("POST", "/entities/ada%2Fx/chat", "POST /entities/{name}/chat"),
        ("GET", "/entities/ada/chat?limit=5&before=abc", "GET /entities/{name}/chat"),
        ("POST", "/entities/chat/pause", "POST /entities/{name}/pause"),
        ("PROPFIND", "/entities", "other /entities"),
    ],
)
def test_an_upstream_operation_names_the_contracts_path_with_every_name_replaced(method, path, operation):
    assert upstream_operation(method, path) == operation


def _raised_from(error: Exception, cause: Exception) -> Exception:
    try:
        raise error from cause
    except Exception as e:
        return e


@pytest.mark.parametrize(
    "error, outcome",
    [
        (None, "ok"),
        (AgentsRefused(404), "4xx"),
        (AgentsTimeout("over 3s"), "timeout"),
        (_raised_from(AgentsUnreachable("refused"), requests.ConnectionError("refused")), "unreachable"),
        (AgentsFailed("GET /entities: 503"), "5xx"),
    ],
)
def test_an_upstream_outcome_is_one_of_five(error, outcome):
    assert upstream_outcome(error) == outcome


def test_an_upstream_call_through_the_client_is_counted_by_operation_and_outcome(
    api_client, user, agents_double, settings
):
    labels = {"operation": "GET /entities/{name}", "outcome": "4xx"}
    before = value("wisdom_upstream_requests_total", **labels)

    response = api_client.get("/personal/entities/nobody-has-this", headers=on_behalf_of(user))

    assert response.status_code == 404
    assert value("wisdom_upstream_requests_total", **labels) == before + 1
    assert value("wisdom_upstream_request_duration_seconds_count", **labels) == before + 1


@pytest.mark.parametrize(
    "remote, forwarded, allowed",
    [
        ("127.0.0.1", None, True),
        ("10.1.2.3", None, True),
        ("172.20.0.5", None, True),
        ("192.168.1.9", None, True),
        ("::1", None, True),
        ("203.0.113.5", None, False),
        ("127.0.0.1", "203.0.113.5", False),  # a stranger's request forwarded by a proxy on this machine
        ("127.0.0.1", "10.0.0.7, 203.0.113.5", False),
        ("203.0.113.5", "10.0.0.7", False),  # a stranger claiming to forward for a private address
        ("127.0.0.1", "10.0.0.7", True),
        ("127.0.0.1", "not-an-address", False),
    ],
)
def test_metrics_is_for_allowed_addresses_only_the_peer_and_every_forwarded_one(remote, forwarded, allowed):
    from django.conf import settings

    meta = {"REMOTE_ADDR": remote} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    request = RequestFactory().get("/metrics", **meta)

    assert client_allowed(request, settings.METRICS_ALLOWED_IPS) is allowed


def test_metrics_answers_prometheus_text_to_an_allowed_address_and_the_same_404_as_anywhere_to_others(api_client):
    allowed = api_client.get("/metrics", REMOTE_ADDR=LOCAL)
    refused = api_client.get("/metrics", REMOTE_ADDR="198.51.100.1")
    unknown = api_client.get("/no-such-route", REMOTE_ADDR="198.51.100.1")

    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(allowed.content.decode())}
    assert {"wisdom_http_requests", "wisdom_http_request_duration_seconds", "wisdom_refusals"} <= names
    assert refused.status_code == 404 and refused.json() == unknown.json()


def test_metrics_is_served_whatever_the_host_header_as_a_scraper_calls_a_replica_by_address(api_client):
    response = api_client.get("/metrics", REMOTE_ADDR=LOCAL, HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200


def test_an_empty_allow_list_refuses_everyone(api_client, settings):
    settings.METRICS_ALLOWED_IPS = ()

    assert api_client.get("/metrics", REMOTE_ADDR=LOCAL).status_code == 404


def test_a_custom_allow_list_is_honoured(api_client, settings):
    settings.METRICS_ALLOWED_IPS = (ipaddress.ip_network("198.51.100.0/24"),)

    assert api_client.get("/metrics", REMOTE_ADDR="198.51.100.1").status_code == 200
    assert api_client.get("/metrics", REMOTE_ADDR=LOCAL).status_code == 404


def test_an_event_stream_is_marked_unbuffered_for_nginx_and_counted_open_until_closed():
    request = RequestFactory().get("/stream")

    def events(request):
        return StreamingHttpResponse(iter([b"data: a\n\n", b"data: b\n\n"]), content_type="text/event-stream")

    open_before = value("wisdom_http_open_streams")
    response = observe_request(request, events)
    open_while_streaming = value("wisdom_http_open_streams")
    body = b"".join(response.streaming_content)
    response.close()

    assert response["X-Accel-Buffering"] == "no"
    assert body == b"data: a\n\ndata: b\n\n"
    assert open_while_streaming == open_before + 1
    assert value("wisdom_http_open_streams") == open_before


def test_another_streaming_answer_is_neither_marked_nor_counted_as_a_stream():
    request = RequestFactory().get("/file")

    def download(request):
        return StreamingHttpResponse(iter([b"x"]), content_type="application/octet-stream")

    open_before = value("wisdom_http_open_streams")
    response = observe_request(request, download)

    assert "X-Accel-Buffering" not in response
    assert value("wisdom_http_open_streams") == open_before


def test_requests_in_flight_go_up_while_answering_and_back_down_after():
    seen = []

    def view(request):
        from django.http import HttpResponse

        seen.append(value("wisdom_http_requests_in_flight"))
        return HttpResponse("ok")

    before = value("wisdom_http_requests_in_flight")
    observe_request(RequestFactory().get("/x"), view)

    assert seen == [before + 1]
    assert value("wisdom_http_requests_in_flight") == before


def test_a_committed_redemption_is_counted_and_a_rolled_back_one_is_not(transactional_db):
    from django.db import transaction

    from invites.tests.factories import InviteFactory, InviteRedemptionFactory

    invite = InviteFactory(max_uses=5, inviter=None)
    before = value("wisdom_invite_redemptions_total")

    InviteRedemptionFactory(invite=invite)
    with pytest.raises(RuntimeError), transaction.atomic():
        InviteRedemptionFactory(invite=invite)
        raise RuntimeError("the sign-up failed after the redemption row")

    assert value("wisdom_invite_redemptions_total") == before + 1


def _stream_chat(api_client, user, name: str):
    response = api_client.post(
        f"/personal/entities/{name}/messages",
        {"content": "hi there"},
        format="json",
        headers={**on_behalf_of(user), "Accept": "text/event-stream"},
    )
    return response, b"".join(response.streaming_content) if response.streaming else response.content


def test_a_streamed_chat_is_counted_as_an_upstream_call_when_it_ends_by_outcome(api_client, user, agents_double):
    agents_double.seed_entity(name="ada", owner_id=str(user.pk))
    chat = {"operation": "POST /entities/{name}/chat"}
    before = {outcome: value("wisdom_upstream_requests_total", **chat, outcome=outcome) for outcome in ("ok", "5xx")}

    done, done_body = _stream_chat(api_client, user, "ada")
    agents_double.switch(stream_fault="error_event")
    failed, failed_body = _stream_chat(api_client, user, "ada")

    assert done.status_code == failed.status_code == 200
    assert b"event: done" in done_body and b"event: error" in failed_body
    assert value("wisdom_upstream_requests_total", **chat, outcome="ok") == before["ok"] + 1
    assert value("wisdom_upstream_requests_total", **chat, outcome="5xx") == before["5xx"] + 1
    assert value("wisdom_upstream_request_duration_seconds_count", **chat, outcome="ok") >= before["ok"] + 1


def test_a_streamed_chat_to_an_unreachable_upstream_is_counted_unreachable(api_client, user, settings):
    from tests.helpers.processes import free_port

    settings.INTUNO_AGENTS_BASE_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    labels = {"operation": "POST /entities/{name}/chat", "outcome": "unreachable"}
    before = value("wisdom_upstream_requests_total", **labels)

    response, _ = _stream_chat(api_client, user, "ada")

    assert response.status_code == 502
    assert response.json()["detail"] == "The agents service is unreachable."
    assert value("wisdom_upstream_requests_total", **labels) == before + 1
