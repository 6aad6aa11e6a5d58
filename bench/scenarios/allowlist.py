"""Output allowlist cost: what shaping one upstream entity down to its documented fields costs per call,
with the DRF serializer that documents it and with a plain dict projection. In-process, no server."""

import timeit
from collections.abc import Callable
from dataclasses import dataclass

REPEATS = 7  # timeit repeats; the best one is kept (the others only add the machine's noise)

# What the agents service answers for an entity, plus one field it might add that clients must not see.
UPSTREAM_ENTITY = {
    "name": "bench-entity",
    "display_name": "Bench entity",
    "description": "An entity the benchmark shapes over and over.",
    "status": "active",
    "owner_user_id": "500f838d-31ef-4752-a0ff-f2f077afbe28",
    "created_at": "2026-11-22T17:03:00.123456+00:00",
    "updated_at": "2026-11-22T17:03:00.123456+00:00",
    "internal_routing_hint": "upstream-only",
}


@dataclass(frozen=True)
class ShapingCost:
    how: str  # the expression timed
    microseconds: float  # per call, best of the repeats
    calls_per_repeat: int


@dataclass(frozen=True)
class AllowlistResult:
    documented_fields: int
    unknown_fields: int
    repeats: int
    costs: tuple[ShapingCost, ...]


def allowlist_cost() -> AllowlistResult:
    """Needs Django set up (personal.serializers imports DRF and the models)."""
    from personal import serializers

    fields = tuple(serializers.EntitySerializer().fields)
    entity = dict(UPSTREAM_ENTITY)
    shapers: list[tuple[str, Callable[[], object]]] = [
        ("EntitySerializer(entity).data", lambda: serializers.EntitySerializer(entity).data),
        ("{k: entity[k] for k in FIELDS if k in entity}", lambda: {k: entity[k] for k in fields if k in entity}),
    ]
    entity_public = getattr(serializers, "entity_public", None)
    if entity_public is not None:
        shapers.append(("entity_public(entity)", lambda: entity_public(entity)))
    return AllowlistResult(
        documented_fields=len(fields),
        unknown_fields=len(entity.keys() - set(fields)),
        repeats=REPEATS,
        costs=tuple(_per_call(how, shape) for how, shape in shapers),
    )


def _per_call(how: str, shape: Callable[[], object]) -> ShapingCost:
    timer = timeit.Timer(shape)
    calls, _ = timer.autorange()  # enough calls for one repeat to last at least 0.2 s
    best = min(timer.repeat(repeat=REPEATS, number=calls))
    return ShapingCost(how=how, microseconds=round(best / calls * 1e6, 3), calls_per_repeat=calls)
