"""OpenAPI description of the authentications (loaded from AccountsConfig.ready)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class VersionedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.VersionedJWTAuthentication"


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Service-Key",
            "description": "Internal services only. Add X-On-Behalf-Of: <user id> to act as that user.",
        }


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "A personal API key from POST /auth/api-keys; acts as its owner. Refused (403) by "
            "/auth/password, by making keys and by the invite admin API. Ignored when a bearer token is sent too.",
        }
