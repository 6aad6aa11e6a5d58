"""The accounts services, one module per area; the functions callers use are importable from here too.

Errors and their messages live in accounts/errors.py. deletion.py, export.py and jobs.py are imported by name,
not from here: they load the upstream client, which the rest of accounts does not need."""

from accounts.services.api_keys import (
    API_KEY_TOUCH_SECONDS,
    api_key_create,
    api_key_revoke,
    api_key_touch,
    api_keys_revoke_all,
)
from accounts.services.login_limits import login_failure_record, login_failures_check, login_failures_forget
from accounts.services.password_reset import (
    RESET_REQUESTED,
    password_reset_asks_process,
    password_reset_confirm,
    password_reset_request,
    password_reset_user,
)
from accounts.services.passwords import new_password_validate, user_password_change, user_password_set
from accounts.services.tokens import (
    TOKEN_VERSION_CLAIM,
    refresh_token_revoke,
    token_version_is_current,
    tokens_for,
    tokens_refresh,
    user_login,
    user_sessions_end,
)
from accounts.services.users import user_create, user_profile_update

__all__ = [
    "API_KEY_TOUCH_SECONDS",
    "RESET_REQUESTED",
    "TOKEN_VERSION_CLAIM",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
    "api_keys_revoke_all",
    "login_failure_record",
    "login_failures_check",
    "login_failures_forget",
    "new_password_validate",
    "password_reset_asks_process",
    "password_reset_confirm",
    "password_reset_request",
    "password_reset_user",
    "refresh_token_revoke",
    "token_version_is_current",
    "tokens_for",
    "tokens_refresh",
    "user_create",
    "user_login",
    "user_password_change",
    "user_password_set",
    "user_profile_update",
    "user_sessions_end",
]
