"""Input validation and output shapes for the invite routes (and their OpenAPI schema)."""

from rest_framework import serializers

from invites.models import MAX_EXPIRES_IN_DAYS, MAX_USES_LIMIT, Invite, InviteRedemption, InviteStatus
from wisdom.bodies import DocumentedFieldsOnly
from wisdom.fields import EmailStringField, IntegerField, StringField


class BlankAsNullCharField(serializers.CharField):
    """An optional text shown as null rather than "" when it is empty."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


INVITER_NAME_HELP = "The inviter's first name, else full name, else null; never their email."


# --- input ----------------------------------------------------------------------------------


class InviteCreateSerializer(DocumentedFieldsOnly, serializers.Serializer):
    email = EmailStringField(required=False, allow_blank=True, max_length=254)
    note = StringField(required=False, allow_blank=True, max_length=255)
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=f"ISO 8601; in the future and at most {MAX_EXPIRES_IN_DAYS} days from now.",
    )
    expires_in_days = IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRES_IN_DAYS,
        help_text=f"Instead of expires_at; 1 to {MAX_EXPIRES_IN_DAYS}.",
    )
    max_uses = IntegerField(required=False, default=1, min_value=1, max_value=MAX_USES_LIMIT)
    send_email = serializers.BooleanField(
        required=False, default=False, help_text="Also email the invite to `email` (then required)."
    )

    def to_internal_value(self, data):
        # DRF's BooleanField takes "true", 1 and the like; the schema promises a JSON boolean.
        if isinstance(data, dict) and "send_email" in data and not isinstance(data["send_email"], bool):
            raise serializers.ValidationError({"send_email": ["Must be a valid boolean."]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("expires_at") is not None and attrs.get("expires_in_days") is not None:
            raise serializers.ValidationError({"expires_at": "Give either expires_at or expires_in_days, not both."})
        return attrs


class InviteListFilterSerializer(serializers.Serializer):
    unredeemed_only = serializers.BooleanField(required=False, default=False, help_text="Only invites never used.")
    include_expired = serializers.BooleanField(required=False, default=True, help_text="False hides expired ones.")
    status = serializers.ChoiceField(choices=InviteStatus.choices, required=False)

    def to_internal_value(self, data):
        # DRF reads `?status=` as if absent; the schema promises a value, so a blank one is refused.
        blank = {name: ["This field may not be blank."] for name in self.fields if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class RedeemSerializer(DocumentedFieldsOnly, serializers.Serializer):
    email = EmailStringField(
        required=False, allow_blank=True, max_length=254, help_text="Defaults to the invite's email."
    )
    password = StringField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    first_name = StringField(min_length=1, max_length=64)
    last_name = StringField(required=False, allow_blank=True, max_length=64, default="")


# --- output ---------------------------------------------------------------------------------


class InviteSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="share_url", read_only=True, help_text="The link to share.")
    email = BlankAsNullCharField()
    note = BlankAsNullCharField()
    status = serializers.ChoiceField(choices=InviteStatus.choices, read_only=True)
    inviter_name = serializers.CharField(read_only=True, allow_null=True, help_text=INVITER_NAME_HELP)

    class Meta:
        model = Invite
        fields = [
            "id",
            "token",
            "url",
            "email",
            "note",
            "expires_at",
            "max_uses",
            "use_count",
            "status",
            "inviter_name",
            "created_at",
            "revoked_at",
            "last_sent_at",
        ]
        read_only_fields = fields


class RedemptionSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="Null once the user is deleted.")

    class Meta:
        model = InviteRedemption
        fields = ["user_id", "email", "redeemed_at"]
        read_only_fields = fields


class InviteDetailSerializer(InviteSerializer):
    redemptions = RedemptionSerializer(many=True, read_only=True)

    class Meta(InviteSerializer.Meta):
        fields = [*InviteSerializer.Meta.fields, "redemptions"]
        read_only_fields = fields


class InvitePreviewSerializer(serializers.ModelSerializer):
    email = BlankAsNullCharField()
    inviter_name = serializers.CharField(read_only=True, allow_null=True, help_text=INVITER_NAME_HELP)

    class Meta:
        model = Invite
        fields = ["email", "inviter_name", "expires_at", "max_uses", "use_count"]
        read_only_fields = fields


class InviteNotSendableSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.ChoiceField(
        choices=InviteStatus.choices, required=False, help_text="Absent when the invite has no email."
    )


class InviteGoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    status = serializers.ChoiceField(choices=InviteStatus.choices, help_text="Never `active` here.")
