"""What can go wrong talking to the agents service: facts only; wisdom/exceptions.py maps them to responses."""


class AgentsError(Exception):
    """Base of every failure of a call to the agents service."""


class AgentsRefused(AgentsError):
    """Upstream answered 400, 403, 404, 409 or 422: the caller's request, not the service, is at fault."""

    def __init__(self, status: int, detail: str | None = None):
        self.status = status
        self.detail = detail
        super().__init__(f"agents service refused the request with {status}")


class AgentsRateLimited(AgentsError):
    """Upstream answered 429; `retry_after` is its Retry-After header when it sent a sane one."""

    def __init__(self, detail: str | None = None, retry_after: str | None = None):
        self.detail = detail
        self.retry_after = retry_after
        super().__init__("agents service rate-limited the request")


class AgentsCredentialsRejected(AgentsError):
    """Upstream answered 401: this server's X-API-Key is wrong, a configuration error."""


class AgentsFailed(AgentsError):
    """Upstream answered 5xx, an unexpected status, or a success whose body is not the expected JSON."""


class AgentsUnreachable(AgentsError):
    """No connection: refused, reset, or the name did not resolve."""


class AgentsTimeout(AgentsError):
    """No answer within the connect or read time-out."""
