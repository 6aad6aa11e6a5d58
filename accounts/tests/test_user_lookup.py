"""The user row every authenticated call reads: the same user the ORM would give, refused at once when it must be."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Plan, User
from accounts.selectors import user_get
from accounts.services import TOKEN_VERSION_CLAIM, tokens_for
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FIELDS = [field.attname for field in User._meta.concrete_fields]


def _me(api_client, access_token):
    return api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_user_get_reads_every_field_as_the_orm_does():
    made = UserFactory(plan=Plan.PRO, is_staff=True, is_active=False, last_login=timezone.now() - timedelta(days=1))

    read = user_get(user_id=made.pk)

    expected = User.objects.get(pk=made.pk)
    assert [getattr(read, name) for name in FIELDS] == [getattr(expected, name) for name in FIELDS]
    assert read.pk == made.pk
    assert read.check_password("x") is False  # a usable model instance


def _loaded(user: User) -> dict:
    """Each concrete field's value, type and repr (a naive datetime or a str UUID would differ), and the state the
    ORM leaves on an instance it loaded."""
    fields = {name: (getattr(user, name), type(getattr(user, name)), repr(getattr(user, name))) for name in FIELDS}
    return {
        "class": type(user),
        "fields": fields,
        "db": user._state.db,
        "adding": user._state.adding,
        "deferred": user.get_deferred_fields(),
    }


@pytest.mark.parametrize("plan", list(Plan))
@pytest.mark.parametrize(
    "variant",
    [
        {"last_login": None},
        {"last_login": timezone.now() - timedelta(minutes=5), "is_staff": True, "first_name": "Zoë", "last_name": ""},
        {
            "last_login": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            "is_active": False,
            "is_superuser": True,
            "email": "İvy.Ümlaut@Example.COM",
        },
    ],
    ids=["never-logged-in", "staff-logged-in", "inactive-superuser"],
)
def test_user_get_makes_the_very_user_the_orm_makes(plan, variant):
    """user_get reads the row through Django internals; a Django upgrade that changes them fails here."""
    made = UserFactory(plan=plan, **variant)
    User.objects.filter(pk=made.pk).update(token_version=3)
    if variant.get("is_superuser"):
        made.set_unusable_password()
        made.save(update_fields=["password"])

    read = user_get(user_id=made.pk)
    expected = User.objects.get(pk=made.pk)

    assert _loaded(read) == _loaded(expected)
    assert (read.last_login is None) == (variant["last_login"] is None)  # the nullable field, null and set
    assert (read._state.db, read._state.adding) == ("default", False)


def test_user_get_takes_the_id_as_text_too():
    made = UserFactory()

    assert user_get(user_id=str(made.pk)).pk == made.pk


@pytest.mark.parametrize("user_id", [str(uuid.uuid4()), "not-a-uuid", "", 42])
def test_user_get_finds_nobody_for_an_unknown_or_malformed_id(user_id):
    UserFactory()

    assert user_get(user_id=user_id) is None


def test_a_user_deactivated_behind_the_models_back_is_refused_at_once(api_client, user):
    access = tokens_for(user=user)["access_token"]
    assert _me(api_client, access).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)  # no save(): the token version stays

    response = _me(api_client, access)
    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive"}


def test_a_deleted_user_is_refused_at_once(api_client, user):
    access = tokens_for(user=user)["access_token"]

    User.objects.filter(pk=user.pk).delete()

    response = _me(api_client, access)
    assert response.status_code == 401
    assert response.json() == {"detail": "User not found"}


def test_a_signed_token_naming_no_uuid_is_refused_as_naming_nobody(api_client, user):
    token = AccessToken.for_user(user)
    token["user_id"] = "not-a-uuid"
    token[TOKEN_VERSION_CLAIM] = user.token_version

    response = _me(api_client, str(token))

    assert response.status_code == 401
    assert response.json() == {"detail": "User not found"}
