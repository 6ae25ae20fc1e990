"""Rate limits for the public forms: count first, decide second.

`allow(scope, key, limit=..., seconds=...)` counts one attempt and says whether it is
within the limit. Periods are fixed windows of `seconds` on the clock (an hour limit
runs from the full hour); each window has its own cache key. The count is
``cache.add(key, 0)`` followed by ``cache.incr(key)``, and the number incr returns
decides: simultaneous attempts from several processes each get their own number,
so exactly `limit` of them pass (Redis INCR is atomic; Django's file cache, used in
development without Redis, is serialised here with a file lock).

When the cache fails (Redis down), the request does not fail: the attempt is counted
in this process's memory instead, with the same limit and window. Each web-server
process then counts on its own, so while the cache is down an address may get up
to `limit` attempts per process. The cache error is logged at most once a minute
(clinic/degrade.py).
"""

import fcntl
import logging
import os
import threading
import time
from contextlib import contextmanager

from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache

from clinic import degrade

logger = logging.getLogger(__name__)

LOCK_FILE = "ratelimit.lock"  # not a cache file: the cache's clear() leaves it alone

MEMORY_MAX_KEYS = 10_000  # past this, counts of windows that are over are dropped

_memory: dict[str, tuple[int, float]] = {}  # key -> (count, end of its window)
_memory_lock = threading.Lock()


def allow(scope: str, key: str, *, limit: int, seconds: int) -> bool:
    """Count one attempt by `key` (e.g. a client address) in `scope`; False when it is
    over `limit` attempts in the current window of `seconds`.

    Call it once per attempt, before acting: the attempt counts whether or not it
    then succeeds.
    """
    now = time.time()
    window = int(now // seconds)
    cache_key = f"ratelimit:{scope}:{key[:100]}:{window}"
    try:
        count = _count_in_cache(cache_key, seconds)
    except degrade.CACHE_ERRORS as error:
        degrade.log_cache_error(logger, error, what="rate limits counted in this process")
        count = _count_in_memory(cache_key, (window + 1) * seconds, now)
    return count <= limit


def _count_in_cache(cache_key: str, seconds: int) -> int:
    with _serialised():
        cache.add(cache_key, 0, timeout=seconds)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # culled between add() and incr()
            cache.set(cache_key, 1, timeout=seconds)
            count = 1
        # Redis's INCR makes a key without expiry if it vanished after add(), and the
        # file cache's incr() stores with the default timeout: set the expiry again
        # (the key is the window's own, so this never lengthens the window).
        cache.touch(cache_key, seconds)
    return count


@contextmanager
def _serialised():
    """Make add() + incr() atomic where the cache does not (the file-based cache)."""
    backend = caches["default"]
    if not isinstance(backend, FileBasedCache):
        yield
        return
    os.makedirs(backend._dir, exist_ok=True)
    with open(os.path.join(backend._dir, LOCK_FILE), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _count_in_memory(cache_key: str, ends: float, now: float) -> int:
    with _memory_lock:
        if len(_memory) > MEMORY_MAX_KEYS:
            for old in [k for k, (_count, until) in _memory.items() if until <= now]:
                del _memory[old]
        count = _memory.get(cache_key, (0, ends))[0] + 1
        _memory[cache_key] = (count, ends)
        return count


def reset_memory() -> None:
    """Forget the in-memory counts and when the last error was logged (for tests)."""
    with _memory_lock:
        _memory.clear()
    degrade.reset()
