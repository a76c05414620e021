"""Django's cached_db sessions, read in the same round trip as the content version.

The session engine with a shared cache (settings.SESSION_ENGINE). A visitor with a session is
shown pages kept per content version (regions/caching.py): asking Redis for the session and the
version at once makes such a page one round trip instead of two, which is most of what it costs
(docs/performance.md). Everything else is Django's: the keys, the database behind the cache.

Django keeps the cache's copy of a session as long as the session lives (a year). An instance
that cannot reach Redis still writes and deletes sessions in the database, and the others would
go on reading the old copy for that long: a region chosen again, or an admin logout, unseen.
So the copy lives at most ``SESSION_COPY_TIMEOUT`` seconds; then it is read from the database
again, once.
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

from .caching import VERSION_KEY, offer_version

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        # The version's copy lives in the default cache: one round trip only when sessions do.
        if settings.SESSION_CACHE_ALIAS != "default":
            return self._from_database()
        try:
            found = caches["default"].get_many([self.cache_key, VERSION_KEY])
        except Exception:  # as Django's load(): a backend may refuse a key a client sent
            return self._from_database()
        offer_version(found.get(VERSION_KEY))
        data = found.get(self.cache_key)
        # Not in the cache (Redis restarted, or away, or the copy's time is up): Django's own
        # way, from the database.
        return data if data is not None else self._from_database()

    def _from_database(self):
        data = super().load()
        # Django stored the copy for the rest of the session's life, which only it knows here:
        # a session with less than SESSION_COPY_TIMEOUT left (a staff session idle for hours,
        # read on a public page) may so outlive its end in the database by that much at most.
        self._bound_copy(settings.SESSION_COPY_TIMEOUT)
        return data

    def save(self, must_create=False):
        super().save(must_create)
        self._bound_copy(min(settings.SESSION_COPY_TIMEOUT, self.get_expiry_age()))

    def _bound_copy(self, seconds: int) -> None:
        if not self.session_key:
            return
        try:
            caches[settings.SESSION_CACHE_ALIAS].touch(self.cache_key, seconds)
        except Exception as error:
            # django-redis 7.0's touch() raises on a connection error despite IGNORE_EXCEPTIONS
            # (its client does not turn the error into ConnectionInterrupted, as set() does).
            # Redis away: there is no copy to bound, and the session is in the database.
            logger.warning("Session copy: the cache does not answer: %s", type(error).__name__)
