from rest_framework import serializers

from accounts.models import ApiKey, User
from wisdom.bodies import DocumentedFieldsOnly
from wisdom.fields import EmailStringField, StringField

PASSWORD_STYLE = {"input_type": "password"}


class LoginSerializer(DocumentedFieldsOnly, serializers.Serializer):
    email = StringField(max_length=254, trim_whitespace=True)
    password = StringField(max_length=4096, trim_whitespace=False, style=PASSWORD_STYLE)


class RefreshSerializer(DocumentedFieldsOnly, serializers.Serializer):
    refresh_token = StringField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class MeSerializer(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(source="date_joined", read_only=True, help_text="Same as date_joined.")

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "is_active",
            "created_at",
            "updated_at",
            "plan",
            "is_staff",
            "date_joined",
        ]
        read_only_fields = fields


class MeUpdateSerializer(DocumentedFieldsOnly, serializers.Serializer):
    """Only the names; any other field in the body is refused, not silently ignored."""

    unknown_field_message = "This field cannot be changed here."

    first_name = StringField(required=False, allow_blank=True, max_length=150)
    last_name = StringField(required=False, allow_blank=True, max_length=150)


class PasswordChangeSerializer(DocumentedFieldsOnly, serializers.Serializer):
    current_password = StringField(max_length=4096, trim_whitespace=False, style=PASSWORD_STYLE)
    new_password = StringField(max_length=4096, trim_whitespace=False, style=PASSWORD_STYLE)


class PasswordResetSerializer(DocumentedFieldsOnly, serializers.Serializer):
    email = EmailStringField(max_length=254)


class PasswordResetConfirmSerializer(DocumentedFieldsOnly, serializers.Serializer):
    uid = StringField(max_length=64, help_text="The `uid` of the reset link.")
    token = StringField(max_length=128, help_text="The `token` of the reset link.")
    new_password = StringField(max_length=4096, trim_whitespace=False, style=PASSWORD_STYLE)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ApiKeyCreateSerializer(DocumentedFieldsOnly, serializers.Serializer):
    name = StringField(min_length=1, max_length=50, help_text="Yours, to tell keys apart.")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="ISO 8601, in the future; null or absent: never expires."
    )


class ApiKeySerializer(serializers.ModelSerializer):
    created_at = serializers.DateTimeField(source="created", read_only=True)
    expires_at = serializers.DateTimeField(source="expiry_date", read_only=True, allow_null=True)
    prefix = serializers.CharField(read_only=True, help_text="The key's first 8 characters: how to tell it.")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField(help_text="Send it as X-API-Key. Shown this once; only a hash is kept.")

    class Meta(ApiKeySerializer.Meta):
        fields = ["id", "name", "key", "prefix", "created_at", "last_used_at", "expires_at"]
        read_only_fields = fields

    def get_key(self, obj) -> str:
        return self.context["key"]


_me_serializer = MeSerializer()  # its fields are built once, on first use, and only read after that


def me_public(user: User) -> dict:
    """MeSerializer's representation of `user`, from one serializer: a ModelSerializer builds its fields from the
    model anew for every instance, a fifth of /auth/me's CPU."""
    return _me_serializer.to_representation(user)
