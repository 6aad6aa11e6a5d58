"""One email rule (accounts.emails.email_key) for storing, comparing and uniqueness, on SQLite and PostgreSQL."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# What Django's email validator lets into a local part besides ASCII: four letters its case-insensitive
# match reads as i, i, s and k. Each variant below is the same account as its plain ASCII spelling.
VARIANTS = {
    "admin@example.com": ["ADMIN@example.com", "admİn@example.com", "ADMİN@EXAMPLE.COM", "adm\u0131n@example.com"],
    "sky@example.com": ["\u017fky@example.com", "s\u212ay@example.com", "SKY@Example.Com"],
}


@pytest.mark.parametrize(
    "email, key",
    [
        ("Admin@Example.COM", "admin@example.com"),
        ("  admin@example.com ", "admin@example.com"),
        ("admİn@example.com", "admin@example.com"),
        ("adm\u0131n@example.com", "admin@example.com"),
        ("\u017f\u212ay@example.com", "sky@example.com"),
        ("\uff49vy@example.com", "ivy@example.com"),  # full-width letters fold too (NFKC)
        ("ivy@Bücher.DE", "ivy@xn--bcher-kva.de"),  # a domain is compared as DNS does: IDNA
        ("ivy@xn--bcher-kva.de", "ivy@xn--bcher-kva.de"),
    ],
)
def test_email_key_folds_case_and_lookalike_letters(email, key):
    from accounts.emails import email_key

    assert email_key(email) == key


def test_the_stored_key_follows_the_email(user):
    user.email = "Alice.New@Example.com"
    user.save(update_fields=["email"])

    assert User.objects.filter(email_key="alice.new@example.com").get() == user


@pytest.mark.parametrize("existing, variant", [(e, v) for e, vs in VARIANTS.items() for v in vs])
def test_login_finds_the_account_under_any_variant_of_its_email(api_client, password, existing, variant):
    user = UserFactory(email=existing)

    response = api_client.post("/auth/login", {"email": variant, "password": password}, format="json")

    assert response.status_code == 200
    me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert me.json()["id"] == str(user.pk)


def test_an_account_registered_with_a_dotted_capital_i_logs_in_with_exactly_that(api_client, password):
    user = UserFactory(email="İvy@example.com")

    as_registered = api_client.post("/auth/login", {"email": "İvy@example.com", "password": password}, format="json")
    as_ascii = api_client.post("/auth/login", {"email": "ivy@example.com", "password": password}, format="json")

    assert as_registered.status_code == as_ascii.status_code == 200
    assert User.objects.get(pk=user.pk).email == "İvy@example.com"  # shown as the owner typed it


@pytest.mark.parametrize("variant", VARIANTS["admin@example.com"])
def test_the_database_refuses_a_second_account_under_a_variant(variant):
    from django.db import IntegrityError, transaction

    UserFactory(email="admin@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email=variant)
    assert User.objects.count() == 1


@pytest.mark.parametrize("variant", VARIANTS["admin@example.com"])
def test_user_create_answers_409_for_a_variant_the_pre_check_missed(variant):
    """The race: another request created the account after the caller looked. 409, never an IntegrityError."""
    from accounts.errors import EmailTaken
    from accounts.services import user_create

    UserFactory(email="admin@example.com")

    with pytest.raises(EmailTaken) as raised:
        user_create(email=variant, password="x")
    assert raised.value.status_code == 409
    assert str(raised.value.detail) == "An account with this email already exists."
    assert User.objects.count() == 1


@pytest.mark.parametrize("variant", ["ADMİN@example.com", "Admin@Example.com"])
def test_the_admin_add_user_form_refuses_a_variant_of_an_existing_email(variant):
    UserFactory(email="admin@example.com")
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))

    response = admin.post(
        "/admin/accounts/user/add/",
        {"email": variant, "plan": "free", "password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"},
    )

    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.filter(email=variant).count() == 0
    assert User.objects.count() == 2


def test_the_admin_change_form_refuses_renaming_onto_another_accounts_variant():
    UserFactory(email="admin@example.com")
    other = UserFactory(email="other@example.com")
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))
    form = {
        "email": "admİn@example.com",
        "first_name": "",
        "last_name": "",
        "plan": "free",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    response = admin.post(f"/admin/accounts/user/{other.pk}/change/", form)

    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.get(pk=other.pk).email == "other@example.com"


def test_createsuperuser_refuses_a_variant_of_an_existing_email(monkeypatch):
    UserFactory(email="admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-unusual-pass")

    with pytest.raises(CommandError, match="An account with this email already exists"):
        call_command("createsuperuser", "--noinput", "--email", "ADMİN@example.com")
    assert User.objects.count() == 1


def test_an_email_whose_key_would_be_too_long_is_refused_with_400_not_stored(api_client):
    from django.core.exceptions import ValidationError

    from accounts.services import user_create

    label = "\ufdfa" * 20  # one character that Unicode compatibility spells out in 18
    email = f"long@{label}.{label}.{label}.com"
    assert len(email) <= 254

    with pytest.raises(ValidationError) as raised:
        user_create(email=email, password="x")
    assert raised.value.message_dict == {"email": ["This email address is too long."]}
    assert not User.objects.exists()
