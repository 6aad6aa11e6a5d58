"""/auth/me/exports: asking, the worker building the document from the agents double (a real process over HTTP),
listing, downloading by the owner alone, expiry, limits and failures."""

import json
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone
from post_office.models import Email
from rest_framework.test import APIClient

from accounts.models import DataExport, ExportStatus
from accounts.services import api_key_create
from accounts.services.export import data_exports_run_due
from invites.tests.factories import InviteFactory, InviteRedemptionFactory
from tests.helpers.auth import bearer

URL = "/auth/me/exports"


def _chat(double, owner, name: str, times: int) -> None:
    with requests.Session() as session:
        for n in range(times):
            response = session.post(
                f"{double.url}/entities/{name}/chat",
                json={"content": f"message {n}"},
                headers={"X-API-Key": double.api_key, "X-User-Id": str(owner)},
                timeout=10,
            )
            assert response.status_code == 201


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    return client


@pytest.fixture
def exporting(user, agents_double, settings):
    settings.JOB_RETRY_FIRST_SECONDS = 30
    return _client(user)


@pytest.mark.django_db
def test_asking_for_an_export_answers_202_pending_and_lists_it(user_client, user):
    response = user_client.post(URL)

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "created_at"} and body["status"] == "pending"
    listed = user_client.get(URL).json()
    assert listed == [
        {
            "id": body["id"],
            "status": "pending",
            "created_at": body["created_at"],
            "expires_at": None,
            "download_url": None,
        }
    ]


@pytest.mark.django_db
def test_a_second_export_while_one_is_pending_is_429_with_a_code(user_client):
    user_client.post(URL)

    response = user_client.post(URL)

    assert response.status_code == 429
    assert response.json()["code"] == "export_in_progress"
    assert response.has_header("Retry-After")
    assert DataExport.objects.count() == 1


@pytest.mark.django_db
def test_past_the_daily_limit_an_export_is_429_until_the_oldest_is_a_day_old(user_client, user, settings):
    settings.EXPORT_DAILY_LIMIT = 2
    now = timezone.now()
    DataExport.objects.create(user=user, status=ExportStatus.READY, created_at=now - timedelta(hours=20))
    DataExport.objects.create(user=user, status=ExportStatus.FAILED, created_at=now - timedelta(hours=1))
    DataExport.objects.create(user=user, status=ExportStatus.READY, created_at=now - timedelta(hours=25))

    response = user_client.post(URL)

    assert response.status_code == 429
    assert response.json() == {
        "detail": "You have asked for too many exports today; try again later.",
        "code": "export_daily_limit",
        "limit": 2,
    }
    assert 3 * 3600 <= int(response["Retry-After"]) <= 4 * 3600 + 1


@pytest.mark.django_db
def test_an_api_key_cannot_ask_for_list_or_download_exports(user):
    _, key = api_key_create(user=user, name="laptop")
    export = DataExport.objects.create(user=user, status=ExportStatus.READY, document="{}")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)

    answers = [client.post(URL), client.get(URL), client.get(f"{URL}/{export.pk}/download")]

    assert [a.status_code for a in answers] == [403, 403, 403]
    assert DataExport.objects.count() == 1


def test_the_worker_builds_every_entity_and_every_message_of_every_page(exporting, user, agents_double):
    for name in ("ex-a", "ex-b", "ex-c"):
        agents_double.seed_entity(name=name, owner_id=str(user.pk), display_name=name.upper())
    agents_double.seed_entity(name="theirs", owner_id="0c8d1f5e-2b7a-4e3c-9f61-5a4b3c2d1e0f")
    _chat(agents_double, user.pk, "ex-a", 230)  # 460 messages: three pages of 200
    _chat(agents_double, user.pk, "ex-b", 2)
    exporting.post(URL)

    run = data_exports_run_due()

    assert (run.done, run.retrying, run.failed) == (1, 0, 0)
    listed = exporting.get(URL).json()[0]
    assert listed["status"] == "ready" and listed["download_url"].endswith("/download")
    response = exporting.get(listed["download_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="wisdom-export-')
    document = json.loads(response.content)
    assert (document["format"], document["format_version"]) == ("wisdom.personal-data-export", 1)
    assert document["account"]["email"] == user.email
    entities = {e["name"]: e for e in document["entities"]}
    assert sorted(entities) == ["ex-a", "ex-b", "ex-c"]
    contents = [m["content"] for m in entities["ex-a"]["messages"]]
    assert len(contents) == 460
    assert contents[0] == "message 0" and contents[-1] == "You said: message 229"
    assert len({m["id"] for m in entities["ex-a"]["messages"]}) == 460
    assert [m["content"] for m in entities["ex-b"]["messages"]] == [
        "message 0",
        "You said: message 0",
        "message 1",
        "You said: message 1",
    ]
    assert entities["ex-c"]["messages"] == []
    pages = [r["path"] for r in agents_double.received() if r["path"].startswith("/entities/ex-a/chat?")]
    assert len(pages) == 3 and "before=" in pages[1]


def test_the_document_holds_keys_and_invites_but_never_a_hash_or_a_token(exporting, user, staff_user):
    api_key, secret = api_key_create(user=user, name="laptop")
    issued = InviteFactory(inviter=user, note="for Bo")
    redemption = InviteRedemptionFactory(user=user)
    exporting.post(URL)

    data_exports_run_due()

    text = DataExport.objects.get(user=user).document
    document = json.loads(text)
    assert document["api_keys"] == [
        {
            "id": str(api_key.pk),
            "name": "laptop",
            "prefix": api_key.prefix,
            "created_at": api_key.created.isoformat(),
            "expires_at": None,
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert [i["note"] for i in document["invites"]["issued"]] == ["for Bo"]
    assert document["invites"]["redeemed"][0]["invite_id"] == str(redemption.invite_id)
    for secret_value in (api_key.hashed_key, secret, secret.partition(".")[2], issued.token, redemption.invite.token):
        assert secret_value not in text


def test_only_the_owner_downloads_an_export_anyone_else_gets_404(exporting, user, other_user, staff_user):
    exporting.post(URL)
    data_exports_run_due()
    path = exporting.get(URL).json()[0]["download_url"]
    session = Client()
    session.force_login(user)
    others = Client()
    others.force_login(staff_user)

    owner = exporting.get(path)
    by_session = session.get(path)
    answers = [_client(other_user).get(path), _client(staff_user).get(path), APIClient().get(path), others.get(path)]

    assert owner.status_code == 200 and by_session.status_code == 200
    assert by_session.content == owner.content
    assert [a.status_code for a in answers] == [404, 404, 401, 404]
    assert all(user.email.encode() not in a.content for a in answers)


def test_the_person_is_emailed_when_the_export_is_ready(exporting, user):
    exporting.post(URL)

    data_exports_run_due()

    email = Email.objects.get()
    export = DataExport.objects.get()
    assert email.to == [user.email] and email.subject == "Your Intuno Personal data export is ready"
    assert f"/auth/me/exports/{export.pk}/download" in email.message


def test_an_expired_export_is_listed_expired_emptied_and_no_longer_downloadable(exporting, user):
    exporting.post(URL)
    data_exports_run_due()
    export = DataExport.objects.get()
    path = exporting.get(URL).json()[0]["download_url"]
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    listed = exporting.get(URL).json()[0]
    download = exporting.get(path)
    data_exports_run_due()

    assert (listed["status"], listed["download_url"]) == ("expired", None)
    assert download.status_code == 404
    export.refresh_from_db()
    assert (export.status, export.document) == (ExportStatus.EXPIRED, None)


def test_an_export_over_the_size_cap_fails_at_once(exporting, user, agents_double, settings):
    settings.EXPORT_MAX_BYTES = 2000
    agents_double.seed_entity(name="big", owner_id=str(user.pk))
    _chat(agents_double, user.pk, "big", 20)
    exporting.post(URL)

    run = data_exports_run_due()

    export = DataExport.objects.get()
    assert (run.failed, export.status, export.attempts, export.document) == (1, ExportStatus.FAILED, 1, None)
    assert export.last_error.startswith("ExportTooLarge")
    assert exporting.get(URL).json()[0]["status"] == "failed"


def test_a_failing_upstream_is_retried_then_the_export_is_failed_and_staff_retry_it(
    exporting, user, agents_double, settings, staff_user
):
    settings.EXPORT_MAX_ATTEMPTS = 2
    agents_double.switch(fault="canned", fault_status=503)
    exporting.post(URL)

    first = data_exports_run_due()
    DataExport.objects.update(next_attempt_at=timezone.now())
    second = data_exports_run_due()

    export = DataExport.objects.get()
    assert (first.retrying, second.failed) == (1, 1)
    assert (export.status, export.attempts) == (ExportStatus.FAILED, 2)
    assert export.last_error == "AgentsFailed: GET /entities: 503"

    agents_double.clear_switches()
    admin = Client()
    staff_user.is_superuser = True
    staff_user.save()
    admin.force_login(staff_user)
    retried = admin.post(
        "/admin/accounts/dataexport/", {"action": "retry_selected", "_selected_action": [str(export.pk)]}
    )

    assert retried.status_code == 302
    assert data_exports_run_due().done == 1
    assert exporting.get(URL).json()[0]["status"] == "ready"


def test_an_export_of_an_account_being_deleted_fails_at_once(exporting, user, agents_double):
    from accounts.services.deletion import account_deletion_request
    from tests.helpers.constants import PASSWORD

    exporting.post(URL)
    account_deletion_request(user=user, password=PASSWORD, address="198.51.100.4")

    run = data_exports_run_due()

    export = DataExport.objects.get()
    assert (run.failed, export.status, export.attempts) == (1, ExportStatus.FAILED, 1)
    assert not [r for r in agents_double.received() if r["path"].startswith("/entities")]


def test_a_worker_asked_to_stop_lets_the_export_go_without_counting_a_failure(exporting, user, agents_double):
    exporting.post(URL)

    answers = iter([True])  # the loop may start; then, mid-build, the worker is asked to stop
    run = data_exports_run_due(keep_going=lambda: next(answers, False))

    export = DataExport.objects.get()
    assert (run.done, run.retrying, run.failed) == (0, 0, 0)
    assert (export.status, export.attempts, export.claim_token) == (ExportStatus.PENDING, 0, None)
    assert data_exports_run_due().done == 1


def test_staff_see_an_export_in_the_admin_but_never_its_document(exporting, user, agents_double, staff_user):
    agents_double.seed_entity(name="private", owner_id=str(user.pk), description="my diary, not for staff")
    exporting.post(URL)
    data_exports_run_due()
    export = DataExport.objects.get()
    admin = Client()
    staff_user.is_superuser = True
    staff_user.save()
    admin.force_login(staff_user)

    listing = admin.get("/admin/accounts/dataexport/?status__exact=ready")
    page = admin.get(f"/admin/accounts/dataexport/{export.pk}/change/")

    assert listing.status_code == 200 and str(export.pk).encode() in listing.content
    assert page.status_code == 200 and b"Ready" in page.content
    assert b"my diary" not in page.content and b"my diary" not in listing.content
