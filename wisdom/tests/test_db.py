"""wisdom.db: what happens to the database connection before an upstream wait."""

import pytest
from django.db import connection, transaction

from tests.helpers.database import database_is_free
from wisdom.db import connection_release

pytestmark = pytest.mark.django_db(transaction=True)


def test_after_a_release_the_database_is_free_for_others():
    from accounts.models import User

    User.objects.count()

    connection_release()

    assert database_is_free(connection)


def test_inside_a_transaction_a_release_keeps_the_connection_and_its_transaction():
    from accounts.models import User

    with transaction.atomic():
        User.objects.count()
        connection_release()
        assert connection.in_atomic_block
        assert User.objects.count() == 0  # still usable


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only: a file handle, no pool to give it back to")
def test_on_sqlite_a_release_keeps_the_file_open_so_the_next_query_does_not_reconnect():
    from accounts.models import User

    User.objects.count()
    opened = connection.connection

    connection_release()
    User.objects.count()

    assert connection.connection is opened


@pytest.mark.skipif(connection.vendor == "sqlite", reason="a pooled server connection: its wrapper is let go too")
def test_after_a_release_the_wrapper_is_let_go_and_the_next_query_makes_a_new_one():
    from django.db import connections

    from accounts.models import User

    User.objects.count()
    released = connections["default"]

    connection_release()

    assert connections["default"] is not released
    assert User.objects.count() == 0
    assert database_is_free(released)
