"""What can go wrong deleting an account or exporting its data, each error with its own status and public detail."""

from rest_framework import status

from wisdom.errors import ApiError

WRONG_PASSWORD = "Your password is not correct."
NO_PASSWORD = "This account has no password; set one (password reset) before deleting the account."
EXPORT_IN_PROGRESS = "An export of your data is already being made; wait for it to be ready."
EXPORT_DAILY_LIMIT = "You have asked for too many exports today; try again later."
EXPORT_NOT_FOUND = "Export not found."
EXPORT_IN_PROGRESS_CODE = "export_in_progress"
EXPORT_DAILY_LIMIT_CODE = "export_daily_limit"


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
