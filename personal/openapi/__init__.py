"""OpenAPI of the personal routes: each operation's schema, with exactly the statuses it can answer.

Every route is a person's (wisdom.openapi.PERSON). Besides its own validation, each answers the agents service's
refusals its call may pass through (personal.client.REFUSALS, read here), its rate limiting (429
`upstream_rate_limited`), its failures (502) and time-outs (504).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
)

from personal.errors import (
    STREAM_CAPACITY_CODE,
    AgentsTimeout,
    StreamCapacityReached,
)
from personal.openapi.common import ENTITY_EXAMPLE, MESSAGE_EXAMPLE, NAME, PAUSED_EXAMPLE, TAGS
from personal.openapi.errors import (
    ENTITY_RATE_LIMITED,
    MESSAGE_RATE_LIMITED,
    StreamUnavailableSerializer,
    entity_example,
    name_errors,
    upstream_errors,
)
from personal.openapi.idempotency import (
    CREATE_IDEMPOTENCY,
    CREATE_IDEMPOTENCY_HEADERS,
    IDEMPOTENCY_KEY,
    SEND_IDEMPOTENCY,
    SEND_IDEMPOTENCY_HEADERS,
)
from personal.openapi.usage import USAGE as USAGE
from personal.serializers import (
    CONTENT_MAX_LENGTH,
    EntityCreateSerializer,
    EntitySerializer,
    EntityUpdateSerializer,
    MessageCreateSerializer,
    MessageListQuerySerializer,
    MessageReplySerializer,
    MessageSerializer,
)
from wisdom import openapi
from wisdom.errors import NON_FIELD_ERRORS, ServiceUnavailable
from wisdom.openapi import PERSON

# --- the operations ----------------------------------------------------------------------------------------

LIST = openapi.operation(
    "listEntities",
    caller=PERSON,
    tags=TAGS,
    summary="List my entities",
    responses={200: EntitySerializer(many=True), **upstream_errors("entity_list")},
    examples=[entity_example("Entities", ENTITY_EXAMPLE)],  # spectacular wraps it in the array
)

CREATE = openapi.operation(
    "createEntity",
    caller=PERSON,
    body=True,
    tags=TAGS,
    summary="Create an entity (within my plan's quota)",
    parameters=[IDEMPOTENCY_KEY, *CREATE_IDEMPOTENCY_HEADERS],
    request=EntityCreateSerializer,
    responses={
        201: EntitySerializer,
        400: openapi.validation_error(
            "Invalid input: a field, a body that is not a JSON object, or a credential header.",
            {
                "A name with a slash": {"name": ["Entity name must not contain '/' (%2F)."]},
                "Not an object": {NON_FIELD_ERRORS: ["Request body must be a JSON object."]},
                "An undocumented field": {"owner_user_id": ["Unknown field."]},
            },
        ),
        **upstream_errors("entity_create", rate_limited=ENTITY_RATE_LIMITED, owned=True),
        **CREATE_IDEMPOTENCY,
    },
    examples=[
        OpenApiExample(
            "New entity",
            value={"name": "ada", "display_name": "Ada", "description": "Remembers my reading list."},
            request_only=True,
        ),
        entity_example("Created", ENTITY_EXAMPLE),
    ],
)

GET = openapi.operation(
    "getEntity",
    caller=PERSON,
    tags=TAGS,
    summary="One of my entities",
    parameters=[NAME],
    responses={200: EntitySerializer, 400: name_errors(), **upstream_errors("entity_get", owned=True)},
    examples=[entity_example("Entity", ENTITY_EXAMPLE)],
)

UPDATE = openapi.operation(
    "updateEntity",
    caller=PERSON,
    body=True,
    tags=TAGS,
    summary="Change an entity's display name or description",
    parameters=[NAME],
    request=EntityUpdateSerializer,
    responses={
        200: EntitySerializer,
        400: name_errors(
            ("No fields", {NON_FIELD_ERRORS: ["No fields to update"]}),
            ("An undocumented field", {"status": ["Unknown field."]}),
        ),
        **upstream_errors("entity_update", owned=True),
    },
    examples=[
        OpenApiExample("New description", value={"description": "Knows my plans."}, request_only=True),
        entity_example("Updated", {**ENTITY_EXAMPLE, "description": "Knows my plans."}),
    ],
)

DELETE = openapi.operation(
    "deleteEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Delete an entity and its conversation",
    parameters=[NAME],
    responses={204: None, 400: name_errors(), **upstream_errors("entity_delete")},
)

PAUSE = openapi.operation(
    "pauseEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Pause an entity (it stops answering messages); pausing a paused one changes nothing",
    parameters=[NAME],
    request=None,
    responses={200: EntitySerializer, 400: name_errors(), **upstream_errors("entity_pause", owned=True)},
    examples=[entity_example("Paused", PAUSED_EXAMPLE)],
)

RESUME = openapi.operation(
    "resumeEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Resume a paused entity; resuming an active one changes nothing",
    parameters=[NAME],
    request=None,
    responses={200: EntitySerializer, 400: name_errors(), **upstream_errors("entity_resume", owned=True)},
    examples=[entity_example("Active", ENTITY_EXAMPLE)],
)

LIST_MESSAGES = openapi.operation(
    "listMessages",
    caller=PERSON,
    tags=TAGS,
    summary="My conversation with an entity, a page at a time (oldest first within a page)",
    parameters=[NAME, MessageListQuerySerializer],
    responses={
        200: MessageSerializer(many=True),
        400: name_errors(("A limit out of range", {"limit": ["Ensure this value is less than or equal to 200."]})),
        **upstream_errors("message_list"),
    },
    examples=[entity_example("Messages", MESSAGE_EXAMPLE)],  # spectacular wraps it in the array
)

MESSAGE_CREATE_DESCRIPTION = """\
Without `Accept: text/event-stream` the reply comes whole: `201` with `{message_id, reply}`.

With `Accept: text/event-stream` it comes as it is written: `200` with Server-Sent Events (`Content-Type:
text/event-stream; charset=utf-8`, `Cache-Control: no-cache`, `X-Accel-Buffering: no`):

- `event: delta` / `data: {"text": "<the next piece>"}`, any number of them, in order;
- `event: done` / `data: {"message_id": "...", "reply": "<the whole reply>"}`, last: the same object as the 201;
- or instead of `done`, `event: error` / `data: {"detail": "...", "status": 502}`, and the stream ends. `status` is
  what the call would have answered without streaming: 502 (the agents service failed) or 504 (no event within the
  chat time-out, or the stream's total time-out passed), or 503 when the server is restarting (send the message
  again: it did not count);
- comment lines (`: keep-alive`) while the agents service is silent, to be ignored.

Errors before the stream starts answer with their usual status and JSON body, as without streaming. The streamed
`200` is declared under `x-streamed-responses`, beside the typed answers, so a generated client's data for this
operation is the whole reply alone; to stream, send the same request with `fetch` and read its body as events
(README, "Frontend": `streamMessage`).

Each plan may send so many messages per rolling minute and per rolling day (streamed or not); a message the
agents service refuses or fails does not count. Every answer past the check carries the IETF `RateLimit-Policy`
(e.g. `"minute";q=10;w=60, "day";q=200;w=86400`) and `RateLimit` (e.g. `"minute";r=7;t=42, "day";r=193;t=86357`:
`r` messages remaining, `t` seconds until a place frees up) fields; a plan without limits carries neither.
Over a limit: `429` with `code` `message_quota_exceeded`, the `window`, and `Retry-After`."""

ACCEPT_EVENT_STREAM = OpenApiParameter(
    "Accept",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="`text/event-stream` to have the reply streamed as it is written (200); otherwise it comes whole "
    "(201).",
)

# Declared under its exact type, charset included: generators that see a bare `text/event-stream` make the whole
# operation a stream (@hey-api/openapi-ts 0.95 then drops every error body and retries the POST). wisdom.openapi
# then sets it apart under `x-streamed-responses`, so the generated data is the 201's reply alone.
EVENT_STREAM_TYPE = "text/event-stream; charset=utf-8"
EVENT_STREAM_RESPONSE = OpenApiResponse(
    OpenApiTypes.STR,
    description="With `Accept: text/event-stream`: the reply as Server-Sent Events (`delta`..., then `done` or "
    "`error`; see the description).",
    examples=[
        OpenApiExample(
            "Streamed reply",
            value='event: delta\ndata: {"text": "Middle"}\n\nevent: delta\ndata: {"text": "march."}\n\n'
            'event: done\ndata: {"message_id": "m000000000041", "reply": "Middlemarch."}\n\n',
            response_only=True,
        ),
        OpenApiExample(
            "Failed after it started",
            value='event: delta\ndata: {"text": "Middle"}\n\n'
            f'event: error\ndata: {{"detail": "{AgentsTimeout.default_detail}", "status": 504}}\n\n',
            response_only=True,
        ),
    ],
)

MESSAGE_UNAVAILABLE = OpenApiResponse(
    StreamUnavailableSerializer,
    description="With `Accept: text/event-stream`: this server relays as many streams as it can (`code` "
    "`stream_capacity_reached`), refused at once rather than queued; or, for any message, the database could not "
    "serve in time. Either way, try again after Retry-After.",
    examples=[
        OpenApiExample(
            "No room for another stream",
            value={"detail": StreamCapacityReached.default_detail, "code": STREAM_CAPACITY_CODE},
            response_only=True,
        ),
        OpenApiExample("The database is busy", value={"detail": ServiceUnavailable.default_detail}, response_only=True),
    ],
)
MESSAGE_ERRORS = {**upstream_errors("message_send", rate_limited=MESSAGE_RATE_LIMITED), 503: MESSAGE_UNAVAILABLE}
# The answers of a message that got past the plan's limits (its place given back when upstream refused or failed).
RATE_LIMITED_ANSWERS = [201, 200, *sorted(status for status in MESSAGE_ERRORS if status not in (503, 504)), 504]
RATE_LIMIT_HEADERS = [
    OpenApiParameter(
        "RateLimit-Policy",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=RATE_LIMITED_ANSWERS,
        description='The plan\'s message limits, e.g. `"minute";q=10;w=60, "day";q=200;w=86400`; absent for a plan '
        "without limits.",
    ),
    OpenApiParameter(
        "RateLimit",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=RATE_LIMITED_ANSWERS,
        description='What is left of each limit, e.g. `"minute";r=7;t=42, "day";r=193;t=86357` (`r` messages '
        "remaining, `t` seconds until a place frees up); absent for a plan without limits.",
    ),
]

SEND_MESSAGE = openapi.operation(
    "sendMessage",
    caller=PERSON,
    body=True,
    tags=TAGS,
    summary="Send a message to an entity and get its reply, whole or streamed as it is written",
    description=MESSAGE_CREATE_DESCRIPTION,
    parameters=[NAME, ACCEPT_EVENT_STREAM, *RATE_LIMIT_HEADERS, IDEMPOTENCY_KEY, *SEND_IDEMPOTENCY_HEADERS],
    request=MessageCreateSerializer,
    responses={
        201: MessageReplySerializer,
        (200, EVENT_STREAM_TYPE): EVENT_STREAM_RESPONSE,
        400: name_errors(
            ("Empty content", {"content": ["This field may not be blank."]}),
            ("Content too long", {"content": [f"Ensure this field has no more than {CONTENT_MAX_LENGTH} characters."]}),
            ("An undocumented field", {"role": ["Unknown field."]}),
        ),
        **MESSAGE_ERRORS,
        **SEND_IDEMPOTENCY,
    },
    examples=[
        OpenApiExample("Message", value={"content": "What's next on my list?"}, request_only=True),
        entity_example("Reply", {"message_id": "m000000000041", "reply": "Middlemarch."}),
    ],
)
