from rest_framework import serializers

from accounts.models import User
from wisdom.fields import StringField


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


_me_serializer = MeSerializer()  # its fields are built once, on first use, and only read after that


def me_public(user: User) -> dict:
    """MeSerializer's representation of `user`, from one serializer: a ModelSerializer builds its fields from the
    model anew for every instance, a fifth of /auth/me's CPU."""
    return _me_serializer.to_representation(user)
