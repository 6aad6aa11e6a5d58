"""Reads of the personal routes that combine several sources."""

from accounts.models import User
from personal import services
from personal.admission import stream_use
from personal.limits import message_usage


def usage_get(*, user: User) -> dict:
    """How much of the plan the user has used: entities from upstream (one call), messages and open streams from
    the shared cache, each beside its limit (None: the plan has none; a count is None when it is not kept)."""
    entities = services.entity_list(user=user)
    streams = stream_use(user=user)
    return {
        "plan": user.plan,
        "entities": {"used": len(entities), "limit": services.plan_entity_cap(plan=user.plan)},
        "messages": {
            name: {"used": window.used, "limit": window.limit, "reset_seconds": window.reset_seconds}
            for name, window in message_usage(user=user).items()
        },
        "streams": {"open": streams.open, "limit": streams.limit},
    }
