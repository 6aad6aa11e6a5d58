"""OpenAPI description of the service-key authentication (loaded from AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
