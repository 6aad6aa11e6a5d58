"""GET /personal/usage: what a person has used of their plan."""

from rest_framework import serializers

from accounts.models import Plan
from personal.openapi.common import TAGS
from personal.openapi.errors import entity_example, upstream_errors
from wisdom import openapi
from wisdom.openapi import PERSON

# --- usage -------------------------------------------------------------------------------------------------


class WindowUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField(
        allow_null=True, help_text="Messages counted in the rolling window; null when not counted (no limit)."
    )
    limit = serializers.IntegerField(allow_null=True, help_text="The plan's messages per window; null: no limit.")
    reset_seconds = serializers.IntegerField(
        allow_null=True, help_text="Seconds until a place frees up (0: none used); null when not counted."
    )


class MessageUsageSerializer(serializers.Serializer):
    minute = WindowUsageSerializer(help_text="The rolling minute.")
    day = WindowUsageSerializer(help_text="The rolling day.")


class EntityUsageSerializer(serializers.Serializer):
    used = serializers.IntegerField(help_text="Entities I have.")
    limit = serializers.IntegerField(allow_null=True, help_text="The plan's entity cap; null: no cap.")


class StreamUsageSerializer(serializers.Serializer):
    open = serializers.IntegerField(
        allow_null=True, help_text="Streamed replies open now; null when not counted (no limit)."
    )
    limit = serializers.IntegerField(allow_null=True, help_text="The plan's streams open at once; null: no limit.")


class UsageSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=Plan.choices)
    entities = EntityUsageSerializer()
    messages = MessageUsageSerializer()
    streams = StreamUsageSerializer()


USAGE_DESCRIPTION = """\
The same figures the message answers' `RateLimit` fields and the `429`s report: for each window, `limit - used` is
`RateLimit`'s `r` and `reset_seconds` its `t`. `limit` is null when the plan has no such limit; a count is then
null too (it is not kept), as it is while the shared cache is unavailable (the limits then let messages through)."""

USAGE = openapi.operation(
    "getUsage",
    caller=PERSON,
    tags=TAGS,
    summary="How much of my plan I have used: entities, messages per minute and per day, streams open",
    description=USAGE_DESCRIPTION,
    responses={200: UsageSerializer, **upstream_errors("entity_list")},
    examples=[
        entity_example(
            "Usage",
            {
                "plan": "free",
                "entities": {"used": 1, "limit": 1},
                "messages": {
                    "minute": {"used": 3, "limit": 10, "reset_seconds": 42},
                    "day": {"used": 7, "limit": 200, "reset_seconds": 84600},
                },
                "streams": {"open": 1, "limit": 2},
            },
        )
    ],
)
