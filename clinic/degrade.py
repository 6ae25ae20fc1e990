"""Keep serving when the shared cache fails.

The cache (Redis in production) only speeds pages up and counts abuse; a
patient must still reach the clinic when it is down. Code that uses the cache
catches `CACHE_ERRORS`, carries on without it and reports the failure with
`log_cache_error`, which writes at most one line a minute per logger, so an
outage leaves a clear trace instead of flooding the log with one line a request.
"""

import logging
import threading
import time

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - the file-based cache needs no redis package
    RedisError = OSError

# Refused or dropped connections and timeouts (Redis), and disk errors (the
# file-based cache). Programming errors are not caught: they must still show.
CACHE_ERRORS: tuple[type[BaseException], ...] = (OSError, RedisError)

LOG_INTERVAL_SECONDS = 60

_last_logged: dict[str, float] = {}
_suppressed: dict[str, int] = {}
_lock = threading.Lock()


def log_cache_error(logger: logging.Logger, error: BaseException, *, what: str = "") -> bool:
    """Log a cache failure, at most once a minute for each logger (per process).

    `what` says what was skipped ("page cache bypassed"). Returns whether a line
    was written; the failures left out are counted in the next line.
    """
    now = time.time()
    with _lock:
        last = _last_logged.get(logger.name)
        if last is not None and 0 <= now - last < LOG_INTERVAL_SECONDS:
            _suppressed[logger.name] = _suppressed.get(logger.name, 0) + 1
            return False
        _last_logged[logger.name] = now
        suppressed = _suppressed.pop(logger.name, 0)
    logger.warning(
        "Cache unavailable (%s: %s)%s; carrying on without it.%s",
        type(error).__name__,
        error,
        f", {what}" if what else "",
        f" {suppressed} more failure(s) since the last report." if suppressed else "",
    )
    return True


def reset() -> None:
    """Forget when failures were last logged (for tests)."""
    with _lock:
        _last_logged.clear()
        _suppressed.clear()
