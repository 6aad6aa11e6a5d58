"""OpenAPI description of the authentications (loaded from AccountsConfig.ready)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class VersionedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.VersionedJWTAuthentication"


class _DocumentedHeaderScheme(OpenApiAuthenticationExtension):
    """A scheme defined but listed in no operation's `security`; operations document its header instead."""

    def get_security_requirement(self, auto_schema):
        return None


class ServiceKeyScheme(_DocumentedHeaderScheme):
    """Defined, but in no operation's `security`: generated clients apply every scheme an operation lists, so a
    browser's bearer token would go out as X-Service-Key too (which then decides alone). Operations document the
    service key as optional X-Service-Key / X-On-Behalf-Of header parameters instead (wisdom/openapi.py)."""

    target_class = "accounts.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Service-Key",
            "description": "Internal services only, never a browser. Alone: the service itself (the invite admin "
            "routes). With `X-On-Behalf-Of: <user id>`: that user, on any route they may call.",
        }


class ApiKeyScheme(_DocumentedHeaderScheme):
    """Defined, but in no operation's `security`, as the service key: `auth: () => token` would send the JWT as
    X-API-Key too. The operations that take a key document X-API-Key as an optional header (wisdom/openapi.py)."""

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
