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
    PolymorphicProxySerializer,
)
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied

from accounts.models import Plan
from personal.client import REFUSALS
from personal.errors import (
    MESSAGE_QUOTA_CODE,
    QUOTA_CODE,
    UPSTREAM_RATE_LIMITED_CODE,
    AgentsCredentialsRejected,
    AgentsFailed,
    AgentsRateLimited,
    AgentsRefused,
    AgentsTimeout,
    AgentsUnreachable,
)
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
from wisdom.errors import NON_FIELD_ERRORS
from wisdom.openapi import PERSON, LiteralField

TAGS = ["personal"]

NAME = OpenApiParameter(
    "name",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.PATH,
    description="The entity's name: 1 to 255 characters, no '/', '\\' or control characters, not '.' or '..'.",
)

OWNER = "6f1c2b9e-4d3a-4b8e-9a51-0c2f7d9e1a34"
ENTITY_EXAMPLE = {
    "name": "ada",
    "display_name": "Ada",
    "description": "Remembers my reading list.",
    "status": "active",
    "owner_user_id": OWNER,
    "created_at": "2026-01-05T09:30:00Z",
    "updated_at": "2026-01-05T09:30:00Z",
}
PAUSED_EXAMPLE = {**ENTITY_EXAMPLE, "status": "paused", "updated_at": "2026-01-06T10:00:00Z"}
MESSAGE_EXAMPLE = {
    "id": "m000000000042",
    "role": "assistant",
    "content": "Middlemarch.",
    "created_at": "2026-01-06T10:00:01Z",
}


# --- error bodies ------------------------------------------------------------------------------------------


class EntityQuotaExceededSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = LiteralField(QUOTA_CODE)
    plan = serializers.ChoiceField(choices=Plan.choices)
    limit = serializers.IntegerField(help_text="The plan's entity cap.")


class MessageQuotaExceededSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = LiteralField(MESSAGE_QUOTA_CODE)
    plan = serializers.ChoiceField(choices=Plan.choices)
    limit = serializers.IntegerField(help_text="The plan's messages per `window`.")
    window = serializers.ChoiceField(choices=["minute", "day"], help_text="Which limit: per rolling minute or day.")


class UpstreamRateLimitedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The agents service's own words when it gave some.")
    code = LiteralField(UPSTREAM_RATE_LIMITED_CODE)


def _rate_limited(component: str, own: type[serializers.Serializer], description: str, examples) -> dict:
    """The 429 of a route with a limit of the plan's own: that limit or upstream's, told apart by `code`."""
    body = PolymorphicProxySerializer(
        component_name=component,
        serializers={own().fields["code"].value: own, UPSTREAM_RATE_LIMITED_CODE: UpstreamRateLimitedSerializer},
        resource_type_field_name="code",
    )
    return {429: OpenApiResponse(body, description=description, examples=examples)}


UPSTREAM_RATE_LIMITED_EXAMPLE = OpenApiExample(
    "The agents service is rate-limiting",
    value={"detail": AgentsRateLimited.default_detail, "code": UPSTREAM_RATE_LIMITED_CODE},
    response_only=True,
)
UPSTREAM_RATE_LIMITED = {
    429: OpenApiResponse(
        UpstreamRateLimitedSerializer,
        description="The agents service is rate-limiting (`code` `upstream_rate_limited`; Retry-After when it sent "
        "one).",
        examples=[UPSTREAM_RATE_LIMITED_EXAMPLE],
    )
}
ENTITY_RATE_LIMITED = _rate_limited(
    "EntityCreateRateLimited",
    EntityQuotaExceededSerializer,
    "The plan's entity cap is reached (`code` `entity_quota_exceeded`), or the agents service is rate-limiting "
    "(`code` `upstream_rate_limited`).",
    [
        OpenApiExample(
            "The entity cap is reached",
            value={
                "detail": "Entity limit reached for the free plan (1).",
                "code": QUOTA_CODE,
                "plan": "free",
                "limit": 1,
            },
            response_only=True,
        ),
        UPSTREAM_RATE_LIMITED_EXAMPLE,
    ],
)
MESSAGE_RATE_LIMITED = _rate_limited(
    "SendMessageRateLimited",
    MessageQuotaExceededSerializer,
    "The plan's messages per minute or per day are used up (`code` `message_quota_exceeded`, with Retry-After), "
    "or the agents service is rate-limiting (`code` `upstream_rate_limited`).",
    [
        OpenApiExample(
            "The minute's messages are used up",
            value={
                "detail": "Message limit reached for the free plan (10 per minute).",
                "code": MESSAGE_QUOTA_CODE,
                "plan": "free",
                "limit": 10,
                "window": "minute",
            },
            response_only=True,
        ),
        UPSTREAM_RATE_LIMITED_EXAMPLE,
    ],
)

BAD_GATEWAY = OpenApiResponse(
    openapi.ApiErrorSerializer,
    description="The agents service failed, is unreachable, rejected this server's credentials, or answered "
    "outside its contract.",
    examples=[
        OpenApiExample("Failed", value={"detail": AgentsFailed.default_detail}, response_only=True),
        OpenApiExample("Unreachable", value={"detail": AgentsUnreachable.default_detail}, response_only=True),
        OpenApiExample(
            "Credentials rejected", value={"detail": AgentsCredentialsRejected.default_detail}, response_only=True
        ),
    ],
)
GATEWAY_TIMEOUT = openapi.error("The agents service did not answer in time.", AgentsTimeout.default_detail)

# What the agents service's refusals mean on these routes (their detail is upstream's own).
_REFUSED = {
    403: openapi.error("The entity belongs to another user.", PermissionDenied.default_detail),
    404: openapi.error("No entity of that name.", "Entity not found."),
    409: openapi.error("The name is taken, or the entity is paused.", AgentsRefused.DETAILS[409]),
    422: openapi.error("The agents service refused a value.", "display_name: must be a string of at most 200"),
}
_OWNERSHIP = {403: _REFUSED[403]}  # an entity upstream says is someone else's is never shown


def upstream_errors(call: str, *, rate_limited: dict = UPSTREAM_RATE_LIMITED, owned: bool = False) -> dict:
    """The statuses a route answers for its agents service call: the refusals its contract passes through,
    429, 502 and 504; `owned` when the route also checks the owner of the entity it answers (403)."""
    refused = {status: _REFUSED[status] for status in sorted(REFUSALS[call])}
    return {**(_OWNERSHIP if owned else {}), **refused, **rate_limited, 502: BAD_GATEWAY, 504: GATEWAY_TIMEOUT}


def _entity_example(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


def _name_errors(*extra: tuple[str, dict[str, list[str]]]) -> OpenApiResponse:
    return openapi.validation_error(
        "Invalid input: the name in the path, a field, or a credential header.",
        {
            "A name with a slash": {"name": ["Entity name must not contain '/' (%2F)."]},
            **dict(extra),
            "X-On-Behalf-Of": {NON_FIELD_ERRORS: ["X-On-Behalf-Of must be a user id (a UUID)."]},
        },
    )


# --- the operations ----------------------------------------------------------------------------------------

LIST = openapi.operation(
    "listEntities",
    caller=PERSON,
    tags=TAGS,
    summary="List my entities",
    responses={200: EntitySerializer(many=True), **upstream_errors("entity_list")},
    examples=[_entity_example("Entities", ENTITY_EXAMPLE)],  # spectacular wraps it in the array
)

CREATE = openapi.operation(
    "createEntity",
    caller=PERSON,
    body=True,
    tags=TAGS,
    summary="Create an entity (within my plan's quota)",
    request=EntityCreateSerializer,
    responses={
        201: EntitySerializer,
        400: openapi.validation_error(
            "Invalid input: a field, a body that is not a JSON object, or a credential header.",
            {
                "A name with a slash": {"name": ["Entity name must not contain '/' (%2F)."]},
                "Not an object": {NON_FIELD_ERRORS: ["Request body must be a JSON object."]},
            },
        ),
        **upstream_errors("entity_create", rate_limited=ENTITY_RATE_LIMITED, owned=True),
    },
    examples=[
        OpenApiExample(
            "New entity",
            value={"name": "ada", "display_name": "Ada", "description": "Remembers my reading list."},
            request_only=True,
        ),
        _entity_example("Created", ENTITY_EXAMPLE),
    ],
)

GET = openapi.operation(
    "getEntity",
    caller=PERSON,
    tags=TAGS,
    summary="One of my entities",
    parameters=[NAME],
    responses={200: EntitySerializer, 400: _name_errors(), **upstream_errors("entity_get", owned=True)},
    examples=[_entity_example("Entity", ENTITY_EXAMPLE)],
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
        400: _name_errors(("No fields", {NON_FIELD_ERRORS: ["No fields to update"]})),
        **upstream_errors("entity_update", owned=True),
    },
    examples=[
        OpenApiExample("New description", value={"description": "Knows my plans."}, request_only=True),
        _entity_example("Updated", {**ENTITY_EXAMPLE, "description": "Knows my plans."}),
    ],
)

DELETE = openapi.operation(
    "deleteEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Delete an entity and its conversation",
    parameters=[NAME],
    responses={204: None, 400: _name_errors(), **upstream_errors("entity_delete")},
)

PAUSE = openapi.operation(
    "pauseEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Pause an entity (it stops answering messages); pausing a paused one changes nothing",
    parameters=[NAME],
    request=None,
    responses={200: EntitySerializer, 400: _name_errors(), **upstream_errors("entity_pause", owned=True)},
    examples=[_entity_example("Paused", PAUSED_EXAMPLE)],
)

RESUME = openapi.operation(
    "resumeEntity",
    caller=PERSON,
    tags=TAGS,
    summary="Resume a paused entity; resuming an active one changes nothing",
    parameters=[NAME],
    request=None,
    responses={200: EntitySerializer, 400: _name_errors(), **upstream_errors("entity_resume", owned=True)},
    examples=[_entity_example("Active", ENTITY_EXAMPLE)],
)

LIST_MESSAGES = openapi.operation(
    "listMessages",
    caller=PERSON,
    tags=TAGS,
    summary="My conversation with an entity, a page at a time (oldest first within a page)",
    parameters=[NAME, MessageListQuerySerializer],
    responses={
        200: MessageSerializer(many=True),
        400: _name_errors(("A limit out of range", {"limit": ["Ensure this value is less than or equal to 200."]})),
        **upstream_errors("message_list"),
    },
    examples=[_entity_example("Messages", MESSAGE_EXAMPLE)],  # spectacular wraps it in the array
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

Errors before the stream starts answer with their usual status and JSON body, as without streaming. A generated
client calls this operation for the whole reply; to stream, send the same request with `fetch` and read its body.

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
# operation a stream (@hey-api/openapi-ts 0.95 then drops every error body and retries the POST), which would cost
# the JSON answers their types. A generated client calls this for the whole reply; to stream, use fetch.
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

MESSAGE_ERRORS = upstream_errors("message_send", rate_limited=MESSAGE_RATE_LIMITED)
# The answers of a message that got past the plan's limits (its place given back when upstream refused or failed).
RATE_LIMITED_ANSWERS = [201, 200, *sorted(status for status in MESSAGE_ERRORS if status != 504), 504]
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
    parameters=[NAME, ACCEPT_EVENT_STREAM, *RATE_LIMIT_HEADERS],
    request=MessageCreateSerializer,
    responses={
        201: MessageReplySerializer,
        (200, EVENT_STREAM_TYPE): EVENT_STREAM_RESPONSE,
        400: _name_errors(
            ("Empty content", {"content": ["This field may not be blank."]}),
            ("Content too long", {"content": [f"Ensure this field has no more than {CONTENT_MAX_LENGTH} characters."]}),
        ),
        **MESSAGE_ERRORS,
    },
    examples=[
        OpenApiExample("Message", value={"content": "What's next on my list?"}, request_only=True),
        _entity_example("Reply", {"message_id": "m000000000041", "reply": "Middlemarch."}),
    ],
)
