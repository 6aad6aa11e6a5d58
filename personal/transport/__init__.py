"""The bounded HTTP transport to the agents service, one job per file:

- session.py: the pooled session (one TLS context), a call's total deadline and size cap, a stream's opening
- connections.py: urllib3's connections, with a small read buffer per answer
- deadline.py: total deadlines from gevent.Timeout, the serving model's own mechanism
- body.py: a body read in `identity` encoding up to a cap
- stream.py: a streamed body read as it arrives, in one wait with the client's end
- waiting.py: one wait on a stream's two sockets with a time-out
- events.py: the text/event-stream parser, linear in an event's size
- errors.py: what can go wrong besides requests' connection errors
"""

from personal.transport.errors import BodyTooLarge, DeadlineExceeded, StreamBroken, UnexpectedEncoding
from personal.transport.events import Event, EventParser, EventTooLarge
from personal.transport.session import BoundedResponse, BoundedSession
from personal.transport.stream import UpstreamStream

__all__ = [
    "BodyTooLarge",
    "BoundedResponse",
    "BoundedSession",
    "DeadlineExceeded",
    "Event",
    "EventParser",
    "EventTooLarge",
    "StreamBroken",
    "UnexpectedEncoding",
    "UpstreamStream",
]
