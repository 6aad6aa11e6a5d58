"""Personal entities: the quota and its per-user lock, and the ownership check of what upstream hands back.

The client releases the database connection before every wait on the agents service, so a slow
upstream never holds connections that /auth/me and the other routes need (the create's lock is the
one exception).
"""

import logging

from django.conf import settings
from django.db import transaction
from rest_framework.exceptions import PermissionDenied

from accounts.models import Plan, User
from personal.client import agents_client
from personal.errors import EntityQuotaExceeded

logger = logging.getLogger(__name__)


def plan_entity_cap(*, plan: str) -> int | None:
    """The plan's entity cap; None means no cap (and an unknown plan gets the free cap)."""
    caps = {
        Plan.FREE: settings.PERSONAL_FREE_TIER_ENTITY_CAP,
        Plan.PRO: settings.PERSONAL_PRO_TIER_ENTITY_CAP,
        Plan.ENTERPRISE: settings.PERSONAL_ENTERPRISE_TIER_ENTITY_CAP,
    }
    return caps.get(plan, settings.PERSONAL_FREE_TIER_ENTITY_CAP)


def entity_list(*, user: User) -> list[dict]:
    return _owned_only(user=user, entities=agents_client().entity_list(user_id=user.pk))


def entity_get(*, user: User, name: str) -> dict:
    return _owned(user=user, entity=agents_client().entity_get(user_id=user.pk, name=name))


def entity_create(*, user: User, data: dict) -> dict:
    """Counts and creates under a row lock on the user, so concurrent creates never pass the cap."""
    if plan_entity_cap(plan=user.plan) is None:
        return _owned(user=user, entity=agents_client().entity_create(user_id=user.pk, data=data))

    client = agents_client()
    # PostgreSQL: the row lock serialises this user's creates only. SQLite: the atomic block's
    # BEGIN IMMEDIATE serialises every writer across processes (select_for_update is a no-op there).
    with transaction.atomic():
        locked = User.objects.select_for_update().only("pk", "plan").get(pk=user.pk)
        cap = plan_entity_cap(plan=locked.plan)
        if cap is not None:
            count = len(_owned_only(user=user, entities=client.entity_list(user_id=user.pk)))
            if count >= cap:
                raise EntityQuotaExceeded(plan=locked.plan, limit=cap)
        entity = client.entity_create(user_id=user.pk, data=data)
    return _owned(user=user, entity=entity)


def entity_update(*, user: User, name: str, data: dict) -> dict:
    return _owned(user=user, entity=agents_client().entity_update(user_id=user.pk, name=name, data=data))


def entity_delete(*, user: User, name: str) -> None:
    agents_client().entity_delete(user_id=user.pk, name=name)


def entity_pause(*, user: User, name: str) -> dict:
    return _owned(user=user, entity=agents_client().entity_pause(user_id=user.pk, name=name))


def entity_resume(*, user: User, name: str) -> dict:
    return _owned(user=user, entity=agents_client().entity_resume(user_id=user.pk, name=name))


def message_send(*, user: User, name: str, content: str) -> dict:
    return agents_client().message_send(user_id=user.pk, name=name, content=content)


def message_list(*, user: User, name: str, limit: int, before: str | None = None) -> list[dict]:
    return agents_client().message_list(user_id=user.pk, name=name, limit=limit, before=before)


def _is_owned(*, user: User, entity: dict) -> bool:
    return str(entity.get("owner_user_id")) == str(user.pk)


def _warn_foreign(*, user: User, entity: dict) -> None:
    logger.warning(
        "agents service returned entity %r owned by %r to user %s; withheld",
        str(entity.get("name"))[:255],
        str(entity.get("owner_user_id"))[:64],
        user.pk,
    )


def _owned(*, user: User, entity: dict) -> dict:
    """Defence in depth: an entity upstream says belongs to someone else is never shown."""
    if not _is_owned(user=user, entity=entity):
        _warn_foreign(user=user, entity=entity)
        raise PermissionDenied()
    return entity


def _owned_only(*, user: User, entities: list[dict]) -> list[dict]:
    owned = []
    for entity in entities:
        if _is_owned(user=user, entity=entity):
            owned.append(entity)
        else:
            _warn_foreign(user=user, entity=entity)
    return owned
