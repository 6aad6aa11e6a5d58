"""The personal routes' error answers: quota and rate-limit bodies, the agents service's refusals and failures."""

from drf_spectacular.utils import (
    OpenApiExample,
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
    STREAM_CAPACITY_CODE,
    STREAM_LIMIT_CODE,
    UPSTREAM_RATE_LIMITED_CODE,
    AgentsCredentialsRejected,
    AgentsFailed,
    AgentsRateLimited,
    AgentsRefused,
    AgentsTimeout,
    AgentsUnreachable,
)
from wisdom import openapi
from wisdom.errors import NON_FIELD_ERRORS
from wisdom.openapi import LiteralField

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


class StreamLimitExceededSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = LiteralField(STREAM_LIMIT_CODE)
    plan = serializers.ChoiceField(choices=Plan.choices)
    limit = serializers.IntegerField(help_text="The plan's streams open at once.")


class StreamUnavailableSerializer(serializers.Serializer):
    """`code` is there when this server relays as many streams as it can (a stream was asked for); absent when
    the database could not serve in time."""

    detail = serializers.CharField()
    code = LiteralField(STREAM_CAPACITY_CODE, required=False)


class UpstreamRateLimitedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The agents service's own words when it gave some.")
    code = LiteralField(UPSTREAM_RATE_LIMITED_CODE)


def _rate_limited(
    component: str, own: type[serializers.Serializer], description: str, examples, *, also: tuple = ()
) -> dict:
    """The 429 of a route with a limit of the plan's own (or several, `also`): those or upstream's, told apart by
    `code`."""
    limits = {kind().fields["code"].value: kind for kind in (own, *also)}
    body = PolymorphicProxySerializer(
        component_name=component,
        serializers={**limits, UPSTREAM_RATE_LIMITED_CODE: UpstreamRateLimitedSerializer},
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
    "The plan's messages per minute or per day are used up (`code` `message_quota_exceeded`, with Retry-After); "
    "with `Accept: text/event-stream`, the plan's streams open at once are all open (`code` "
    "`stream_limit_exceeded`: refused before the message counts or the agents service is asked; end one first); "
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
        OpenApiExample(
            "Every stream the plan allows is open",
            value={
                "detail": "Stream limit reached for the free plan (2 open at once); end one first.",
                "code": STREAM_LIMIT_CODE,
                "plan": "free",
                "limit": 2,
            },
            response_only=True,
        ),
        UPSTREAM_RATE_LIMITED_EXAMPLE,
    ],
    also=(StreamLimitExceededSerializer,),
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
REFUSED = {
    403: openapi.error("The entity belongs to another user.", PermissionDenied.default_detail),
    404: openapi.error("No entity of that name.", "Entity not found."),
    409: openapi.error("The name is taken, or the entity is paused.", AgentsRefused.DETAILS[409]),
    422: openapi.error("The agents service refused a value.", "display_name: must be a string of at most 200"),
}
_OWNERSHIP = {403: REFUSED[403]}  # an entity upstream says is someone else's is never shown


def upstream_errors(call: str, *, rate_limited: dict = UPSTREAM_RATE_LIMITED, owned: bool = False) -> dict:
    """The statuses a route answers for its agents service call: the refusals its contract passes through,
    429, 502 and 504; `owned` when the route also checks the owner of the entity it answers (403)."""
    refused = {status: REFUSED[status] for status in sorted(REFUSALS[call])}
    return {**(_OWNERSHIP if owned else {}), **refused, **rate_limited, 502: BAD_GATEWAY, 504: GATEWAY_TIMEOUT}


def entity_example(name: str, value) -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True)


def name_errors(*extra: tuple[str, dict[str, list[str]]]) -> OpenApiResponse:
    return openapi.validation_error(
        "Invalid input: the name in the path, a field, or a credential header.",
        {
            "A name with a slash": {"name": ["Entity name must not contain '/' (%2F)."]},
            **dict(extra),
            "X-On-Behalf-Of": {NON_FIELD_ERRORS: ["X-On-Behalf-Of must be a user id (a UUID)."]},
        },
    )
