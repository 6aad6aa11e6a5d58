"""Account errors, each with its own status and public detail; wisdom/exceptions.py renders them."""

from rest_framework import status

from accounts.emails import EMAIL_TAKEN
from wisdom.errors import ApiError

INVALID_CREDENTIALS = "Invalid email or password."
INVALID_REFRESH = "Refresh token is invalid or expired."
# A token of ours from before the account's token version moved (logout-all, a password change, deactivation).
SESSION_ENDED = "This session has ended; log in again."
WRONG_CURRENT_PASSWORD = "Your current password is not correct."
RESET_LINK_INVALID = "This password reset link is invalid or has expired; ask for a new one."
API_KEY_NOT_FOUND = "API key not found."
API_KEY_EXPIRY_PAST = "The expiry must be in the future."
WRONG_PASSWORD = "Your password is not correct."
NO_PASSWORD = "This account has no password; set one (password reset) before deleting the account."
EXPORT_IN_PROGRESS = "An export of your data is already being made; wait for it to be ready."
EXPORT_DAILY_LIMIT = "You have asked for too many exports today; try again later."
EXPORT_NOT_FOUND = "Export not found."
EXPORT_IN_PROGRESS_CODE = "export_in_progress"
EXPORT_DAILY_LIMIT_CODE = "export_daily_limit"


class InvalidCredentials(ApiError):
    """401 from a route that takes credentials in its body. Not DRF's AuthenticationFailed: a view without
    authenticators turns that into a 403."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "invalid_credentials"


class EmailTaken(ApiError):
    """409: the email is another spelling of an existing account's (accounts.emails.email_key)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = EMAIL_TAKEN
    default_code = "email_taken"


class ApiKeyNotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = API_KEY_NOT_FOUND
    default_code = "api_key_not_found"


class AccountHasNoPassword(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = NO_PASSWORD
    default_code = "no_password"


class ExportInProgress(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = EXPORT_IN_PROGRESS
    default_code = EXPORT_IN_PROGRESS_CODE

    def __init__(self, *, retry_after: int):
        super().__init__(extra={"code": EXPORT_IN_PROGRESS_CODE}, headers={"Retry-After": str(retry_after)})


class ExportDailyLimit(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = EXPORT_DAILY_LIMIT
    default_code = EXPORT_DAILY_LIMIT_CODE

    def __init__(self, *, limit: int, retry_after: int):
        super().__init__(
            extra={"code": EXPORT_DAILY_LIMIT_CODE, "limit": limit}, headers={"Retry-After": str(retry_after)}
        )


class ExportNotFound(ApiError):
    """Not the caller's export, or none, or no longer downloadable: one answer, so nothing leaks which."""

    status_code = status.HTTP_404_NOT_FOUND
    default_detail = EXPORT_NOT_FOUND
    default_code = "export_not_found"
