"""Redis as the shared cache: django-redis, and a pause after Redis fails.

Everything in the cache can be rebuilt from the database, so an unreachable Redis must cost
speed, never a page: django-redis answers misses instead of raising (``IGNORE_EXCEPTIONS``),
after short socket timeouts. That is enough while Redis refuses connections, which costs
nothing. A Redis that hangs (the network drops packets, the server is stuck) costs each call
its whole timeout instead: measured, 1 s for every newcomer's page and 2 s for every page of a
visitor with a session, so a gunicorn worker with 4 threads serves 2-4 pages a second.

So after a call fails, each process leaves that server alone for ``pause`` seconds
(settings.CACHE_FAILURE_PAUSE): calls fail at once, django-redis answers them as misses, and
pages are built from the database, as they are when Redis is down. Then calls go to Redis
again, and the first to fail starts another pause. A hung Redis thus costs each thread of a
process at most one timeout every few seconds, not one per call.

pybreaker does this generally, but holds one lock for the whole of every guarded call, which
would make the threads of a worker take turns for every Redis round trip; what is needed here
is one timestamp per server. The guard sits in redis-py's ``Connection``, passed to the pool
with django-redis's ``CONNECTION_POOL_KWARGS`` (``connection_class``): every command and every
connection goes through it, and its refusal is redis-py's own ``ConnectionError``, which
django-redis already turns into a miss.

Any redis-py error counts as a failure, not only a refused or timed-out connection: a
redis:// CACHE_URL that reaches something else (nginx's port, a TLS-only Redis, a proxy that
garbles) gets answers redis-py cannot parse (``InvalidResponse``), which django-redis does not
count among the errors it ignores, so every page was a 500 while the health checks said 200.
Such an error leaves the guard as a ``ConnectionError``, which django-redis turns into a miss.
"""

import logging
import time
from functools import cached_property

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# When each server (host, port, db; or socket path, db) may be tried again; per process.
_paused_until: dict[tuple, float] = {}
# Not error replies (ResponseError): a working Redis sends them, and redis-py expects some
# (a server older than its CLIENT SETINFO refuses it on every connect); django-redis turns
# the others into misses by itself.
FAILURES = redis.RedisError
ANSWERED = redis.ResponseError
# What django-redis already turns into a miss; any other failure is raised as ConnectionError.
IGNORED_BY_DJANGO_REDIS = (redis.ConnectionError, redis.TimeoutError)


class PausedError(redis.ConnectionError):
    """Redis failed a moment ago: not asked again until the pause is over."""


class PauseAfterFailure:
    """Mixed into redis-py's connection classes (TCP, TLS, Unix socket)."""

    @cached_property
    def _server(self) -> tuple:
        return tuple(self.repr_pieces())

    def _guarded(self, call, *args, refuse: bool = True, **kwargs):
        server = self._server
        if refuse and time.monotonic() < _paused_until.get(server, 0.0):
            raise PausedError("Redis failed a moment ago; the cache is skipped for now")
        try:
            return call(*args, **kwargs)
        except (PausedError, ANSWERED):
            raise
        except FAILURES as error:
            if server not in _paused_until or time.monotonic() >= _paused_until[server]:
                # Once per pause, not per call; the error's kind only (InvalidResponse: the
                # URL names something that is not Redis), never a key, a value or a reply.
                logger.warning(
                    "Redis did not answer (%s); the cache is skipped for %s s (pages come "
                    "from the database meanwhile)",
                    type(error).__name__,
                    settings.CACHE_FAILURE_PAUSE,
                )
            _paused_until[server] = time.monotonic() + settings.CACHE_FAILURE_PAUSE
            if isinstance(error, IGNORED_BY_DJANGO_REDIS):
                raise
            raise redis.ConnectionError(f"not a Redis reply ({type(error).__name__})") from error

    def connect(self):
        return self._guarded(super().connect)

    def send_packed_command(self, *args, **kwargs):
        return self._guarded(super().send_packed_command, *args, **kwargs)

    def read_response(self, *args, **kwargs):
        # The answer to a command already sent is read even if a pause began meanwhile: the
        # connection must not be left with an answer waiting in it.
        return self._guarded(super().read_response, *args, refuse=False, **kwargs)


class PausedConnection(PauseAfterFailure, redis.Connection):
    pass


class PausedSSLConnection(PauseAfterFailure, redis.SSLConnection):
    pass


class PausedUnixConnection(PauseAfterFailure, redis.UnixDomainSocketConnection):
    pass


# redis-py picks its class from the URL's scheme, unless the pool is given one: the same here.
CONNECTION_CLASSES = {
    "redis": PausedConnection,
    "rediss": PausedSSLConnection,
    "unix": PausedUnixConnection,
}


def _scheme(location: str | list[str]) -> str:
    # django-environ gives a list for a primary and its replicas (all of one kind).
    first = location[0] if isinstance(location, list) else location
    return first.split(":", 1)[0]


def is_redis(location: str | list[str]) -> bool:
    return _scheme(location) in CONNECTION_CLASSES


def redis_cache(
    location: str | list[str],
    *,
    connect_timeout: float,
    timeout: float,
    options: dict | None = None,
) -> dict:
    """The CACHES entry for a redis://, rediss:// or unix:// location, with the URL's own
    options (``options``, as django-environ reads them from its query string)."""
    connection_class = CONNECTION_CLASSES[_scheme(location)]
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {
            **(options or {}),
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": connect_timeout,
            "SOCKET_TIMEOUT": timeout,
            "CONNECTION_POOL_KWARGS": {"connection_class": connection_class},
        },
    }


def resume_all() -> None:
    """Forget every pause (tests, which start and stop servers at will)."""
    _paused_until.clear()
