import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import QuerySet
from django.db.models.expressions import Col

from accounts.emails import email_key
from accounts.models import ApiKey, DataExport, User


def user_get_active(*, user_id: uuid.UUID) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def user_get_by_email(*, email: str) -> User | None:
    """Any user, active or not, whose email is the same account's as `email` (accounts.emails)."""
    return User.objects.filter(email_key=email_key(email)).first()


def user_email_taken(*, email: str) -> bool:
    return User.objects.filter(email_key=email_key(email)).exists()


# The shape of every key djangorestframework-api-key issues: an 8-character prefix, a dot, 32 characters.
API_KEY_SHAPE = re.compile(r"[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}")


def api_key_get_by_key(*, key: str) -> ApiKey | None:
    """The key, with its owner, whose secret is `key` (compared in constant time), revoked or expired or not;
    None when no key has that prefix and secret. Anything not shaped like a key is not looked up."""
    if not API_KEY_SHAPE.fullmatch(key):
        return None
    api_key = ApiKey.objects.select_related("user").filter(prefix=key.partition(".")[0]).first()
    if api_key is None or not api_key.is_valid(key):
        return None
    return api_key


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys, revoked ones included, newest first."""
    return ApiKey.objects.filter(user=user).order_by("-created", "-pk")


def api_key_get(*, user: User, key_id: uuid.UUID) -> ApiKey | None:
    """One of the user's own keys; another user's is None, as if it did not exist."""
    return ApiKey.objects.filter(user=user, pk=key_id).first()


@dataclass(frozen=True)
class _UserStatement:
    sql: str
    attnames: list[str]
    converters: list[tuple[int, list, Col]]  # (column index, converters, the column they convert)


# By database alias: each greenlet (or thread) has its own connection wrapper, so a cache by wrapper was made anew
# per request under the gevent worker. The converters are the backend's, the same for every wrapper of an alias.
_user_statements: dict[str, _UserStatement] = {}


def user_get(*, user_id: uuid.UUID | str) -> User | None:
    """Any user, active or not, by id; None when no user has it or it is no UUID.

    Every authenticated call reads this row, so its SQL is made once per database rather than by the ORM each
    time; the row becomes a User as the ORM makes one (the fields' database converters, then Model.from_db), which
    accounts/tests/test_user_lookup.py pins against the ORM's own User.
    """
    try:
        key = User._meta.pk.get_db_prep_value(user_id, connection)
    except ValidationError:
        return None
    database = connections[DEFAULT_DB_ALIAS]
    statement = _user_statements.get(database.alias)
    if statement is None:
        statement = _user_statements[database.alias] = _user_statement(database)
    with database.cursor() as cursor:
        cursor.execute(statement.sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, converters, column in statement.converters:
        for convert in converters:
            values[index] = convert(values[index], column, database)
    return User.from_db(database.alias, statement.attnames, values)


def _user_statement(database) -> _UserStatement:
    meta = User._meta
    fields = list(meta.concrete_fields)
    quote = database.ops.quote_name
    columns = [Col(meta.db_table, field) for field in fields]
    converters = [
        (index, converters, column)
        for index, column in enumerate(columns)
        if (converters := database.ops.get_db_converters(column) + column.get_db_converters(database))
    ]
    sql = "SELECT {} FROM {} WHERE {} = %s".format(  # noqa: S608 - names from the model, the id a parameter
        ", ".join(f"{quote(meta.db_table)}.{quote(field.column)}" for field in fields),
        quote(meta.db_table),
        quote(meta.pk.column),
    )
    return _UserStatement(sql=sql, attnames=[field.attname for field in fields], converters=converters)


EXPORTS_LISTED = 50


def data_export_list(*, user: User) -> QuerySet[DataExport]:
    """The person's exports, newest first, without their documents."""
    return DataExport.objects.filter(user=user).defer("document").order_by("-created_at", "-pk")[:EXPORTS_LISTED]
