from rest_framework import serializers

from accounts.models import User


class StrictTypeMixin:
    """JSON of the documented type only: DRF would read 0 as "0" for a string and "7" as 7 for an integer."""

    json_types: tuple = (str,)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, self.json_types):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(StrictTypeMixin, serializers.CharField):
    pass


class EmailStringField(StrictTypeMixin, serializers.EmailField):
    pass


class IntegerField(StrictTypeMixin, serializers.IntegerField):
    json_types = (int,)


class LoginSerializer(serializers.Serializer):
    email = StringField(max_length=254, trim_whitespace=True)
    password = StringField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class RefreshSerializer(serializers.Serializer):
    refresh_token = StringField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.ChoiceField(choices=["bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "plan", "is_staff", "date_joined"]
        read_only_fields = fields


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Messages per field.")
