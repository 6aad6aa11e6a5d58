"""Credential headers for requests made in tests."""

from accounts.services import tokens_for
from tests.helpers.constants import SERVICE_KEY


def bearer(user) -> dict:
    """Headers carrying a fresh access token for `user`."""
    return {"Authorization": f"Bearer {tokens_for(user=user)['access_token']}"}


def on_behalf_of(user, key: str = SERVICE_KEY) -> dict:
    return {"X-Service-Key": key, "X-On-Behalf-Of": str(user.pk)}
