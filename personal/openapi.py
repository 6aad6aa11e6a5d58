"""OpenAPI pieces of the personal routes: the name parameter, the upstream error responses, examples."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import PermissionDenied

from personal.errors import (
    MESSAGE_QUOTA_CODE,
    QUOTA_CODE,
    AgentsFailed,
    AgentsRateLimited,
    AgentsTimeout,
    AgentsUnreachable,
)
from personal.serializers import QuotaErrorSerializer
from wisdom import openapi
from wisdom.openapi import ErrorSerializer

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

BAD_REQUEST = openapi.BAD_REQUEST
UNAUTHENTICATED = openapi.UNAUTHENTICATED
FORBIDDEN = openapi.error("The entity belongs to another user.", PermissionDenied.default_detail)
NOT_FOUND = openapi.error("No entity of that name.", "Entity not found.")
CONFLICT = openapi.error("Conflicts with the entity's state, or the name is taken.", "An entity named 'ada' exists.")
UNPROCESSABLE = openapi.error("The agents service refused the body.", "display_name: must be a string")
RATE_LIMITED = OpenApiResponse(
    QuotaErrorSerializer,
    description="The plan's entity quota is reached (with `code`, `plan`, `limit`), or the agents service is "
    "rate-limiting (with a Retry-After header).",
    examples=[
        OpenApiExample(
            "Entity quota reached",
            value={
                "detail": "Entity limit reached for the free plan (1).",
                "code": QUOTA_CODE,
                "plan": "free",
                "limit": 1,
            },
        ),
        OpenApiExample("Upstream rate limit", value={"detail": AgentsRateLimited.default_detail}),
    ],
)
BAD_GATEWAY = OpenApiResponse(
    ErrorSerializer,
    description="The agents service failed, is unreachable, or rejected this server's credentials.",
    examples=[
        OpenApiExample("Failed", value={"detail": AgentsFailed.default_detail}),
        OpenApiExample("Unreachable", value={"detail": AgentsUnreachable.default_detail}),
    ],
)
GATEWAY_TIMEOUT = openapi.error("No answer within the time-out.", AgentsTimeout.default_detail)

MESSAGE_CREATE_DESCRIPTION = """\
Without `Accept: text/event-stream` the reply comes whole: `201` with `{message_id, reply}`.

With `Accept: text/event-stream` it comes as it is written: `200` with Server-Sent Events (`Cache-Control:
no-cache`, `X-Accel-Buffering: no`):

- `event: delta` / `data: {"text": "<the next piece>"}`, any number of them, in order;
- `event: done` / `data: {"message_id": "...", "reply": "<the whole reply>"}`, last: the same object as the 201;
- or instead of `done`, `event: error` / `data: {"detail": "...", "status": 502}`, and the stream ends. `status` is
  what the call would have answered without streaming: 502 (the agents service failed) or 504 (no event within the
  chat time-out, or the stream's total time-out passed);
- comment lines (`: keep-alive`) while the agents service is silent, to be ignored.

Errors before the stream starts answer with their usual status and JSON body, as without streaming.

Each plan may send so many messages per rolling minute and per rolling day (streamed or not); a message the
agents service refuses or fails does not count. Every answer carries the IETF `RateLimit-Policy` (e.g.
`"minute";q=10;w=60, "day";q=200;w=86400`) and `RateLimit` (e.g. `"minute";r=7;t=42, "day";r=193;t=86357`:
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

EVENT_STREAM_RESPONSE = OpenApiResponse(
    OpenApiTypes.STR,
    description="Accept: text/event-stream: the reply as Server-Sent Events (`delta`..., then `done` or `error`).",
    examples=[
        OpenApiExample(
            "Streamed reply",
            value='event: delta\ndata: {"text": "Middle"}\n\nevent: delta\ndata: {"text": "march."}\n\n'
            'event: done\ndata: {"message_id": "m000000000041", "reply": "Middlemarch."}\n\n',
        ),
        OpenApiExample(
            "Failed after it started",
            value='event: delta\ndata: {"text": "Middle"}\n\n'
            f'event: error\ndata: {{"detail": "{AgentsTimeout.default_detail}", "status": 504}}\n\n',
        ),
    ],
)

MESSAGE_RATE_LIMITED = OpenApiResponse(
    QuotaErrorSerializer,
    description="The plan's messages per minute or per day are used up (with `code`, `plan`, `limit`, `window` "
    "and a Retry-After header), or the agents service is rate-limiting (with a Retry-After header).",
    examples=[
        OpenApiExample(
            "Message limit reached",
            value={
                "detail": "Message limit reached for the free plan (10 per minute).",
                "code": MESSAGE_QUOTA_CODE,
                "plan": "free",
                "limit": 10,
                "window": "minute",
            },
        ),
        OpenApiExample("Upstream rate limit", value={"detail": AgentsRateLimited.default_detail}),
    ],
)


def errors(*, body: bool = False) -> dict:
    """Every error a proxied route can answer; `body` adds the ones only a request body can cause."""
    responses = {
        400: BAD_REQUEST,
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
        422: UNPROCESSABLE,
        429: RATE_LIMITED,
        502: BAD_GATEWAY,
        504: GATEWAY_TIMEOUT,
    }
    if body:
        responses[413] = openapi.PAYLOAD_TOO_LARGE
        responses[415] = openapi.error("The body is not JSON.", 'Unsupported media type "text/plain" in request.')
    return responses
