"""The email_key migrations on a database that already holds accounts."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0003_user_email_key")]
AFTER = [("accounts", "0005_email_key_unique")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _latest():
    """Every app's last migration: where the rest of the suite expects the database."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def accounts_before_email_keys():
    """The User model as it was before keys were filled; the database is put back at the latest state."""
    apps = _migrate(BEFORE)
    yield apps.get_model("accounts", "User")
    apps.get_model("accounts", "User").objects.all().delete()
    _migrate(_latest())


def test_existing_accounts_get_their_key(accounts_before_email_keys):
    User = accounts_before_email_keys
    User.objects.create(email="Mixed.Case@Example.COM", password="x")
    User.objects.create(email="İvy@example.com", password="x")

    User = _migrate(AFTER).get_model("accounts", "User")

    assert sorted(User.objects.values_list("email_key", flat=True)) == ["ivy@example.com", "mixed.case@example.com"]


def test_two_accounts_with_one_key_stop_the_migration_naming_both(accounts_before_email_keys):
    User = accounts_before_email_keys
    User.objects.create(email="sky@example.com", password="x")
    User.objects.create(email="\u017fky@example.com", password="x")  # LOWER() told these apart, the key does not

    with pytest.raises(RuntimeError) as raised:
        _migrate(AFTER)
    assert "'sky@example.com' and '\u017fky@example.com'" in str(raised.value)
