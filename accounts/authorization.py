"""The one reading of the `Authorization` header: it decides both whether a bearer credential is present (which
then decides alone) and which token is checked."""

from dataclasses import dataclass

from rest_framework import HTTP_HEADER_ENCODING

BEARER = b"bearer"


@dataclass(frozen=True, slots=True)
class BearerCredential:
    """`Authorization: Bearer ...` as sent; `token` is None when the header holds no single token after it."""

    token: bytes | None


def bearer_credential(request) -> BearerCredential | None:
    """The bearer credential of `request`, or None when `Authorization` is absent, blank or of another scheme.

    The scheme is case-insensitive (RFC 9110 section 11.1); the token follows any run of whitespace, as simplejwt
    splits it.
    """
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    if isinstance(header, str):
        header = header.encode(HTTP_HEADER_ENCODING, errors="replace")
    parts = header.split()
    if not parts or parts[0].lower() != BEARER:
        return None
    return BearerCredential(token=parts[1] if len(parts) == 2 else None)
