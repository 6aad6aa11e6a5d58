"""Who is calling, beyond a plain user: the internal service itself, and its credentials."""

from dataclasses import dataclass


class ServicePrincipal:
    """The internal service acting as itself (service key, no X-On-Behalf-Of). Not a user."""

    pk = None
    id = None
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    email = ""
    first_name = ""

    def __str__(self) -> str:
        return "service"

    def __eq__(self, other) -> bool:
        return isinstance(other, ServicePrincipal)

    def __hash__(self) -> int:
        return hash("ServicePrincipal")


SERVICE = ServicePrincipal()


@dataclass(frozen=True, slots=True)
class ServiceCredentials:
    """`request.auth` for service-key calls; `delegated` when acting on behalf of a user."""

    delegated: bool
