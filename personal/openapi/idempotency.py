"""Idempotency-Key on the two sends that cost something: the header, its 409 and 422, its replayed answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
)
from rest_framework import serializers

from personal import idempotency
from personal.client import REFUSALS
from personal.errors import (
    IDEMPOTENCY_IN_PROGRESS_CODE,
    IDEMPOTENCY_KEY_REUSED_CODE,
    AgentsRefused,
    IdempotencyInProgress,
    IdempotencyKeyReused,
)
from personal.openapi.errors import REFUSED
from wisdom.openapi import LiteralField

# --- Idempotency-Key (personal/idempotency.py) --------------------------------------------------------------

IDEMPOTENCY_DESCRIPTION = f"""\
A key of the client's own (a UUID is a good one) that makes a retry safe: the same key with the same body, by
the same person within 24 hours, answers the first answer again (status, body and headers, plus
`{idempotency.REPLAYED_HEADER}: true`) without doing it again: nothing is sent twice and nothing is charged twice.
Kept: every 2xx and every 4xx but 400, 409 `{IDEMPOTENCY_IN_PROGRESS_CODE}` and 429; after a 400, a 429, a 5xx or
a 504 the same key is served for real. While the first request runs: 409 `{IDEMPOTENCY_IN_PROGRESS_CODE}` with
Retry-After. The key with another body (or on another route): 422 `{IDEMPOTENCY_KEY_REUSED_CODE}`. 1 to 255
printable ASCII characters, else 400. Ignored on a streamed send (`Accept: text/event-stream`), which is never
replayed. When the shared cache is down requests are served without it."""

IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "minLength": 1, "maxLength": idempotency.KEY_MAX_LENGTH, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    required=False,
    description=IDEMPOTENCY_DESCRIPTION,
)


class IdempotencyConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = LiteralField(
        IDEMPOTENCY_IN_PROGRESS_CODE,
        required=False,
        help_text="Present when the first request with this Idempotency-Key is still in progress: retry after "
        "Retry-After.",
    )


class IdempotencyUnprocessableSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = LiteralField(
        IDEMPOTENCY_KEY_REUSED_CODE,
        required=False,
        help_text="Present when the Idempotency-Key was first used for another request.",
    )


def idempotent_statuses(call: str) -> tuple[dict, list[OpenApiParameter]]:
    """The 409 and 422 of an operation taking an Idempotency-Key (its own refusals or the key's), and the
    answer headers that say so: Retry-After on the 409, Idempotency-Replayed on every answer that may be kept."""
    responses = {
        409: OpenApiResponse(
            IdempotencyConflictSerializer,
            description=f"{REFUSED[409].description} Or (`code` `{IDEMPOTENCY_IN_PROGRESS_CODE}`, with Retry-After) "
            "the first request with this Idempotency-Key is still in progress.",
            examples=[
                OpenApiExample(
                    "Refused by the agents service", value={"detail": AgentsRefused.DETAILS[409]}, response_only=True
                ),
                OpenApiExample(
                    "Idempotency-Key in progress",
                    value={"detail": IdempotencyInProgress.default_detail, "code": IDEMPOTENCY_IN_PROGRESS_CODE},
                    response_only=True,
                ),
            ],
        ),
        422: OpenApiResponse(
            IdempotencyUnprocessableSerializer,
            description=f"{REFUSED[422].description} Or (`code` `{IDEMPOTENCY_KEY_REUSED_CODE}`) the "
            "Idempotency-Key was first used for another request.",
            examples=[
                OpenApiExample(
                    "Refused by the agents service",
                    value={"detail": "display_name: must be a string of at most 200"},
                    response_only=True,
                ),
                OpenApiExample(
                    "Idempotency-Key reused",
                    value={"detail": IdempotencyKeyReused.default_detail, "code": IDEMPOTENCY_KEY_REUSED_CODE},
                    response_only=True,
                ),
            ],
        ),
    }
    kept = [201, *sorted(s for s in REFUSALS[call] | {403} if idempotency.is_stored(s))]
    headers = [
        OpenApiParameter(
            "Retry-After",
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[409],
            description="With `code` `idempotency_in_progress`: seconds to wait before sending it again.",
        ),
        OpenApiParameter(
            idempotency.REPLAYED_HEADER,
            {"type": "string", "enum": ["true"]},
            OpenApiParameter.HEADER,
            response=kept,
            description="`true` when this is the kept answer of an earlier request with the same Idempotency-Key.",
        ),
    ]
    return responses, headers


CREATE_IDEMPOTENCY, CREATE_IDEMPOTENCY_HEADERS = idempotent_statuses("entity_create")
SEND_IDEMPOTENCY, SEND_IDEMPOTENCY_HEADERS = idempotent_statuses("message_send")
