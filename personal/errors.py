"""What can go wrong on the personal routes, each error with its own status and public detail.

The agents service's failures are raised by personal/client.py, which understands them; `reason` is the
internal account for logs and tests, never shown. wisdom/exceptions.py renders them like any ApiError.
"""

from rest_framework import status
from rest_framework.exceptions import PermissionDenied

from wisdom.errors import ApiError

QUOTA_CODE = "entity_quota_exceeded"
MESSAGE_QUOTA_CODE = "message_quota_exceeded"
UPSTREAM_RATE_LIMITED_CODE = "upstream_rate_limited"
STREAM_LIMIT_CODE = "stream_limit_exceeded"
STREAM_CAPACITY_CODE = "stream_capacity_reached"


class EntityQuotaExceeded(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = QUOTA_CODE

    def __init__(self, *, plan: str, limit: int):
        super().__init__(
            f"Entity limit reached for the {plan} plan ({limit}).",
            extra={"code": QUOTA_CODE, "plan": plan, "limit": limit},
        )


class MessageQuotaExceeded(ApiError):
    """The plan's messages per rolling minute or day are used up; `headers` carry Retry-After and RateLimit."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = MESSAGE_QUOTA_CODE

    def __init__(self, *, plan: str, limit: int, window: str, headers: dict[str, str]):
        super().__init__(
            f"Message limit reached for the {plan} plan ({limit} per {window}).",
            extra={"code": MESSAGE_QUOTA_CODE, "plan": plan, "limit": limit, "window": window},
            headers=headers,
        )


class StreamLimitExceeded(ApiError):
    """The user already has as many streams open as the plan allows; refused before upstream is asked."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = STREAM_LIMIT_CODE
    RETRY_AFTER_SECONDS = "5"

    def __init__(self, *, plan: str, limit: int):
        super().__init__(
            f"Stream limit reached for the {plan} plan ({limit} open at once); end one first.",
            extra={"code": STREAM_LIMIT_CODE, "plan": plan, "limit": limit},
            headers={"Retry-After": self.RETRY_AFTER_SECONDS},
        )


class StreamCapacityReached(ApiError):
    """This worker relays as many streams as it may; refused at once, never queued (another may have room)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The server is relaying as many streams as it can; try again shortly."
    default_code = STREAM_CAPACITY_CODE
    RETRY_AFTER_SECONDS = "5"

    def __init__(self):
        super().__init__(extra={"code": STREAM_CAPACITY_CODE}, headers={"Retry-After": self.RETRY_AFTER_SECONDS})


class AgentsError(ApiError):
    """Base of every failure of a call to the agents service."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The agents service failed; try again later."
    default_code = "agents_failed"

    def __init__(self, reason: str = "", *, detail: str | None = None, headers: dict | None = None):
        super().__init__(detail, headers=headers)
        self.reason = reason


class AgentsRefused(AgentsError):
    """Upstream answered 400, 403, 404, 409 or 422: the caller's request, not the service, is at fault.

    The status passes through, with upstream's own detail when it gave one.
    """

    DETAILS = {
        400: "The agents service refused the request.",
        403: PermissionDenied.default_detail,
        404: "Not found.",
        409: "The request conflicts with the entity's current state.",
        422: "The agents service could not process the request.",
    }
    default_code = "agents_refused"

    def __init__(self, status_code: int, detail: str | None = None):
        super().__init__(f"refused with {status_code}", detail=detail or self.DETAILS[status_code])
        self.status_code = status_code


class AgentsRateLimited(AgentsError):
    """Upstream answered 429; its Retry-After goes with the answer when it sent a sane one. Its `code` tells it
    from the plan's own limits (EntityQuotaExceeded, MessageQuotaExceeded), which answer 429 too."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests; try again later."
    default_code = "agents_rate_limited"

    def __init__(self, detail: str | None = None, retry_after: str | None = None):
        super().__init__("rate-limited", detail=detail, headers={"Retry-After": retry_after} if retry_after else None)
        self.extra = {"code": UPSTREAM_RATE_LIMITED_CODE}


class AgentsCredentialsRejected(AgentsError):
    """Upstream answered 401: this server's X-API-Key is wrong, a configuration error."""

    default_detail = "The agents service rejected this server's credentials"
    default_code = "agents_credentials_rejected"


class AgentsFailed(AgentsError):
    """Upstream answered 5xx, an unexpected status, or a success whose body is not the expected JSON."""


class AgentsUnreachable(AgentsError):
    """No connection: refused, reset, or the name did not resolve."""

    default_detail = "The agents service is unreachable."
    default_code = "agents_unreachable"


class AgentsTimeout(AgentsError):
    """No answer within the time-out."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = "The agents service did not answer in time."
    default_code = "agents_timeout"


IDEMPOTENCY_IN_PROGRESS_CODE = "idempotency_in_progress"
IDEMPOTENCY_KEY_REUSED_CODE = "idempotency_key_reused"


class IdempotencyInProgress(ApiError):
    """The first request with this Idempotency-Key has not answered yet: retry after `Retry-After`."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still in progress; retry shortly."
    default_code = IDEMPOTENCY_IN_PROGRESS_CODE

    def __init__(self, *, retry_after: int):
        super().__init__(extra={"code": IDEMPOTENCY_IN_PROGRESS_CODE}, headers={"Retry-After": str(retry_after)})


class IdempotencyKeyReused(ApiError):
    """This Idempotency-Key was first used for another request (another body or route)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request; use a new key for a new request."
    default_code = IDEMPOTENCY_KEY_REUSED_CODE

    def __init__(self):
        super().__init__(extra={"code": IDEMPOTENCY_KEY_REUSED_CODE})


class StreamStopped(ApiError):
    """The server is stopping (a deploy): a stream still open at the drain deadline ends with this `error`."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The server is restarting; send the message again."
    default_code = "server_stopping"
