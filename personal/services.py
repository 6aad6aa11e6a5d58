"""Personal entities: the quota, kept with reservations, and the ownership check of what upstream hands back.

The client releases the database connection before every wait on the agents service, and no transaction
here spans an upstream call, so a slow upstream never holds a connection or a row lock that /auth/me,
/auth/login, /readyz and other users need.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now
from rest_framework.exceptions import PermissionDenied

from accounts.models import Plan, User
from personal import limits, stream
from personal.admission import AdmittedEvents, stream_admit
from personal.client import agents_client
from personal.errors import AgentsError, EntityQuotaExceeded
from personal.models import EntityReservation

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
    """Creates within the plan's cap, exactly, across processes and replicas, without holding the database.

    A reservation is recorded before upstream is asked anything, the fresh upstream count is checked
    against it in a short transaction, and it ends after the create: a second create while the first is
    in flight is refused at once, and two racing creates can never both pass the cap.
    """
    client = agents_client()
    if plan_entity_cap(plan=user.plan) is None:
        return _owned(user=user, entity=client.entity_create(user_id=user.pk, data=data))

    reservation = reservation_take(user=user)
    created = False
    try:
        existing = len(_owned_only(user=user, entities=client.entity_list(user_id=user.pk)))
        reservation_confirm(reservation=reservation, existing=existing)
        entity = client.entity_create(user_id=user.pk, data=data)
        created = True
    finally:
        reservation_end(reservation=reservation, created=created)
    return _owned(user=user, entity=entity)


def _in_flight_budget() -> timedelta:
    # the count and the create, each within its deadline, and a margin: past it the worker surely died
    return timedelta(seconds=2 * settings.INTUNO_AGENTS_TIMEOUT_SECONDS + 5)


def _db_now_plus(delta: timedelta) -> ExpressionWrapper:
    # the database's clock, shared by every replica, not each process's own
    return ExpressionWrapper(Now() + Value(delta), output_field=DateTimeField())


def reservation_take(*, user: User) -> EntityReservation:
    """Records a create in flight; refused at once (429) when the creates already in flight fill the cap."""
    with transaction.atomic():
        EntityReservation.objects.filter(user=user, expires_at__lte=Now()).delete()
        cap = plan_entity_cap(plan=user.plan)
        in_flight = EntityReservation.objects.filter(user=user, finished_at__isnull=True, expires_at__gt=Now())
        if cap is not None and in_flight.count() >= cap:
            raise EntityQuotaExceeded(plan=user.plan, limit=cap)
        reservation = EntityReservation.objects.create(user=user, expires_at=_db_now_plus(_in_flight_budget()))
    return reservation


def reservation_confirm(*, reservation: EntityReservation, existing: int) -> None:
    """Checks the upstream count, taken after the reservation, plus every other create that could be missing
    from it: those still in flight and those that finished since this one began. Over the cap: 429."""
    user = reservation.user
    with transaction.atomic():
        # Serialises this user's checks only; NO KEY so the user's own login (a key-share lock) is not held up.
        locked = User.objects.select_for_update(no_key=True).only("pk", "plan").get(pk=user.pk)
        cap = plan_entity_cap(plan=locked.plan)
        if cap is None:
            return
        others = EntityReservation.objects.filter(user=user, expires_at__gt=Now()).exclude(pk=reservation.pk)
        counted = others.filter(Q(finished_at__isnull=True) | Q(finished_at__gte=reservation.created_at)).count()
        refused = existing + counted >= cap
        if refused:
            reservation.delete()  # committed with the check, so the next check in line no longer counts it
    if refused:
        raise EntityQuotaExceeded(plan=locked.plan, limit=cap)


def reservation_end(*, reservation: EntityReservation, created: bool) -> None:
    """A refused or failed create frees its place; a made one stays counted until every count that may have
    missed it is checked (one upstream deadline), then expires."""
    if not created:
        EntityReservation.objects.filter(pk=reservation.pk).delete()
        return
    grace = timedelta(seconds=settings.INTUNO_AGENTS_TIMEOUT_SECONDS + 5)
    EntityReservation.objects.filter(pk=reservation.pk).update(finished_at=Now(), expires_at=_db_now_plus(grace))


def entity_update(*, user: User, name: str, data: dict) -> dict:
    return _owned(user=user, entity=agents_client().entity_update(user_id=user.pk, name=name, data=data))


def entity_delete(*, user: User, name: str) -> None:
    agents_client().entity_delete(user_id=user.pk, name=name)


def entity_pause(*, user: User, name: str) -> dict:
    return _owned(user=user, entity=agents_client().entity_pause(user_id=user.pk, name=name))


def entity_resume(*, user: User, name: str) -> dict:
    return _owned(user=user, entity=agents_client().entity_resume(user_id=user.pk, name=name))


@dataclass(frozen=True)
class SentMessage:
    reply: dict
    headers: dict[str, str]  # RateLimit-Policy and RateLimit


@dataclass(frozen=True)
class StreamedMessage:
    events: Iterator[bytes]  # the Server-Sent Events, relayed as upstream sends them; closing it ends the work
    headers: dict[str, str]


def message_send(*, user: User, name: str, content: str) -> SentMessage:
    """Within the plan's message limits (429 before upstream is asked); a message upstream refuses does not count."""
    allowance = limits.message_take(user=user)
    try:
        reply = agents_client().message_send(user_id=user.pk, name=name, content=content)
    except Exception as e:
        _refused(e, allowance)
        raise
    return SentMessage(reply=reply, headers=allowance.headers())


def message_stream(*, user: User, name: str, content: str) -> StreamedMessage:
    """Like `message_send`, answered as events while upstream writes the reply. Errors before upstream starts
    answering raise as `message_send`'s do; later ones become the stream's `error` event and give the place back.

    Admitted first (503 when this worker relays all it may, 429 over the plan's open streams), so a refused
    stream costs no message; the stream's places are freed when it ends, however it ends."""
    admission = stream_admit(user=user)
    try:
        allowance = limits.message_take(user=user)
    except BaseException:
        admission.free()
        raise
    gives_up_at = time.monotonic() + settings.PERSONAL_STREAM_MAX_SECONDS
    try:
        opened = agents_client().message_stream(user_id=user.pk, name=name, content=content, gives_up_at=gives_up_at)
    except Exception as e:
        admission.free()
        _refused(e, allowance)
        raise
    except BaseException:  # the worker is stopping mid-call: the stream never started
        admission.free()
        raise

    def ended(outcome: str) -> None:
        admission.free()
        if outcome == stream.ERROR:  # a client that left still had upstream write (and bill) the reply
            limits.message_give_back(allowance=allowance)

    relay_limits = stream.RelayLimits(
        keepalive_seconds=settings.PERSONAL_STREAM_KEEPALIVE_SECONDS,
        gap_seconds=settings.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS,
        gives_up_at=gives_up_at,
        max_event_bytes=settings.INTUNO_AGENTS_MAX_RESPONSE_BYTES,
    )
    events = stream.EventRelay(opened, limits=relay_limits, on_end=ended)
    return StreamedMessage(events=AdmittedEvents(events, admission), headers=allowance.headers())


def _refused(error: Exception, allowance: limits.MessageAllowance) -> None:
    """Upstream refused or failed: the place is given back, and the error answer still says what is left."""
    left = limits.message_give_back(allowance=allowance)
    if isinstance(error, AgentsError):
        error.headers.update(left.headers())


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
