"""Input validation for the personal routes, and the documented shapes of what they answer."""

from rest_framework import serializers
from rest_framework.settings import api_settings

from personal.names import entity_name_problem
from wisdom.bodies import DocumentedFieldsOnly
from wisdom.fields import StringField

CONTENT_MAX_LENGTH = 65_536
CURSOR_MAX_LENGTH = 512
NOT_AN_OBJECT = "Request body must be a JSON object."
NO_FIELDS = "No fields to update"


def validate_entity_name(name: str) -> str:
    problem = entity_name_problem(name)
    if problem is not None:
        raise serializers.ValidationError(problem)
    return name


def raw_path_has_encoded_slash(meta: dict) -> bool:
    """gunicorn (RAW_URI) and uWSGI (REQUEST_URI) keep the path as sent; Django sees %2F already decoded to '/'."""
    raw = meta.get("RAW_URI") or meta.get("REQUEST_URI") or ""
    return "%2f" in raw.split("?", 1)[0].lower()


class _JsonObjectSerializer(DocumentedFieldsOnly, serializers.Serializer):
    """A JSON object of the declared fields only: exactly the fields given, as given, are what goes upstream."""

    def run_validation(self, data=serializers.empty):
        if not isinstance(data, dict):  # a JSON null, array, string or number
            raise serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [NOT_AN_OBJECT]}, code="invalid")
        return super().run_validation(data)

    def to_internal_value(self, data) -> dict:
        return dict(super().to_internal_value(data))


class EntityCreateSerializer(_JsonObjectSerializer):
    name = StringField(
        trim_whitespace=False,
        validators=[validate_entity_name],
        help_text="Unique across the service; 1 to 255 characters, no '/', '\\', control characters, not '.' or '..'.",
    )
    display_name = StringField(required=False, allow_blank=True, trim_whitespace=False)
    description = StringField(required=False, allow_blank=True, trim_whitespace=False)


class EntityUpdateSerializer(_JsonObjectSerializer):
    display_name = StringField(required=False, allow_blank=True, trim_whitespace=False)
    description = StringField(required=False, allow_blank=True, trim_whitespace=False)

    def validate(self, attrs):
        if not self.initial_data:
            raise serializers.ValidationError(NO_FIELDS)
        return attrs


class MessageCreateSerializer(_JsonObjectSerializer):
    content = StringField(min_length=1, max_length=CONTENT_MAX_LENGTH, trim_whitespace=False)


class MessageListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    # Printable ASCII, bounded: percent-encoded with the longest name it still fits one request line.
    before = serializers.RegexField(
        r"\A[\x20-\x7e]*\Z",  # \Z, not $: $ also matches before a final newline
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=CURSOR_MAX_LENGTH,
        help_text="Opaque cursor: the `id` of the oldest message already seen; answers older ones.",
        error_messages={"invalid": "The cursor must be printable ASCII."},
    )

    def validate_before(self, value: str) -> str | None:
        return value or None  # `?before=` is the same as no cursor


# --- documented answers -------------------------------------------------------------------


ENTITY_STATUSES = ("active", "paused")


class EntitySerializer(serializers.Serializer):
    name = serializers.CharField()
    display_name = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ENTITY_STATUSES, help_text="`paused`: it does not answer messages.")
    owner_user_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MessageSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Pass as `before` to page back past this message.")
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = serializers.CharField()
    created_at = serializers.DateTimeField()


class MessageReplySerializer(serializers.Serializer):
    message_id = serializers.CharField(help_text="The id of the message the person sent, not of the reply.")
    reply = serializers.CharField(help_text="The entity's whole reply.")


# The allowlist: a proxied answer carries exactly the documented fields, whatever else upstream adds
# (an internal prompt, a cost). A projection, not serializer.data: it costs a fraction of a serializer.
ENTITY_FIELDS = tuple(EntitySerializer().fields)
MESSAGE_FIELDS = tuple(MessageSerializer().fields)
REPLY_FIELDS = tuple(MessageReplySerializer().fields)


def entity_public(entity: dict) -> dict:
    return {name: entity[name] for name in ENTITY_FIELDS if name in entity}


def message_public(message: dict) -> dict:
    return {name: message[name] for name in MESSAGE_FIELDS if name in message}


def reply_public(reply: dict) -> dict:
    return {name: reply[name] for name in REPLY_FIELDS if name in reply}
