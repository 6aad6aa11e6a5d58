"""What can go wrong talking to upstream, besides requests' own connection errors."""


class DeadlineExceeded(Exception):
    """The call did not complete (name lookup, connect, headers and body) within its total deadline."""


class BodyTooLarge(Exception):
    """The answer's body is over the cap (declared or as read)."""


class UnexpectedEncoding(Exception):
    """The answer is compressed although only `identity` was accepted."""


class StreamBroken(Exception):
    """A streamed answer broke off: the connection failed or upstream broke HTTP/1.1's framing."""
