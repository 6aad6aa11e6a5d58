"""The shared cache, failing open: when it is down, what needed it is skipped and logged, and the request goes on.

A stand-in for wisdom/cache.py (fail-open cache helpers, on another branch): once that lands, the message limits
(personal/limits.py) can use it instead and this module goes.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


@contextmanager
def shared_cache_fail_open(what: str) -> Iterator[None]:
    """Runs the block; an error from the cache ends it, logged as a warning, and is not raised."""
    try:
        yield
    except Exception as e:  # redis' ConnectionError, TimeoutError, ResponseError...: all of them mean "no cache"
        logger.warning("%s skipped: the shared cache failed (%s: %s)", what, type(e).__name__, str(e)[:200])
