"""Django's built-in RedisCache, made to treat an unreachable Redis as an empty cache.

Everything the site keeps in the cache can be rebuilt from PostgreSQL (the region index,
cached pages; sessions are ``cached_db``), so a Redis outage must cost speed, never a page.
"""

import functools
import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


class ForgivingRedisCache(RedisCache):
    """While Redis does not answer, reads miss and writes are dropped.

    After a failure Redis is left alone for ``RETRY_AFTER`` seconds, so a page does not wait
    for a socket timeout on each of its cache calls, and one warning is logged per outage
    rather than one per call. Keys whose write or delete was dropped may still hold an old
    value in a Redis that only lost the network; they are deleted once Redis answers again
    (all of them, by flushing, if too many were missed to remember).
    """

    RETRY_AFTER = 5.0
    MAX_MISSED_KEYS = 10_000

    def __init__(self, server, params):
        super().__init__(server, params)
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._missed: set[str] = set()
        self._flush_missed = False

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _attempt(self, operation, fallback, *, writes=()):
        if not self.available:
            self._remember(writes)
            return fallback
        try:
            self._resync()
            return operation()
        except UNAVAILABLE as exc:
            self._remember(writes)
            self._went_down(exc)
            return fallback

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            was_up = self.available
            self._down_until = time.monotonic() + self.RETRY_AFTER
        if was_up:
            logger.warning(
                "Redis cache unavailable, serving without it for %ss: %s",
                self.RETRY_AFTER,
                exc.__class__.__name__,
            )

    def _remember(self, keys) -> None:
        if not keys:
            return
        with self._lock:
            self._missed.update(keys)
            if len(self._missed) > self.MAX_MISSED_KEYS:
                self._missed.clear()
                self._flush_missed = True

    def _resync(self) -> None:
        if not (self._missed or self._flush_missed):
            return
        with self._lock:
            missed, self._missed = self._missed, set()
            flush, self._flush_missed = self._flush_missed, False
        try:
            if flush:
                self._cache.clear()
            elif missed:
                self._cache.delete_many(list(missed))
        except UNAVAILABLE:
            with self._lock:
                self._missed |= missed
                self._flush_missed |= flush
            raise
        logger.warning(
            "Redis cache answers again; dropped %s stale keys", "all" if flush else len(missed)
        )

    def _keys(self, keys, version):
        return [self.make_key(key, version=version) for key in keys]

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        call = functools.partial(super().add, key, value, timeout, version)
        return self._attempt(call, False, writes=self._keys([key], version))

    def get(self, key, default=None, version=None):
        return self._attempt(functools.partial(super().get, key, default, version), default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        call = functools.partial(super().set, key, value, timeout, version)
        return self._attempt(call, None, writes=self._keys([key], version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        call = functools.partial(super().touch, key, timeout, version)
        return self._attempt(call, False, writes=self._keys([key], version))

    def delete(self, key, version=None):
        call = functools.partial(super().delete, key, version)
        return self._attempt(call, False, writes=self._keys([key], version))

    def get_many(self, keys, version=None):
        return self._attempt(functools.partial(super().get_many, keys, version), {})

    def has_key(self, key, version=None):
        return self._attempt(functools.partial(super().has_key, key, version), False)

    def incr(self, key, delta=1, version=None):
        missing = object()
        result = self._attempt(functools.partial(super().incr, key, delta, version), missing)
        if result is missing:
            # What a missing key does: callers already handle it (usually with add()).
            raise ValueError(f"Key '{key}' not found (cache unavailable).")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        call = functools.partial(super().set_many, data, timeout, version)
        return self._attempt(call, list(data), writes=self._keys(data, version))

    def delete_many(self, keys, version=None):
        call = functools.partial(super().delete_many, keys, version)
        return self._attempt(call, None, writes=self._keys(keys, version))

    def clear(self):
        flushed = self._attempt(super().clear, None)
        if flushed is None:
            with self._lock:
                self._flush_missed = True
        return bool(flushed)
