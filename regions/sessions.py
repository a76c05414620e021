"""Django's cached_db sessions, read in the same round trip as the content version.

The session engine with a shared cache (settings.SESSION_ENGINE). A visitor with a session is
shown pages kept per content version (regions/caching.py): asking Redis for the session and the
version at once makes such a page one round trip instead of two, which is most of what it costs
(docs/performance.md). Everything else is Django's: the keys, the database behind the cache.

Django keeps the cache's copy of a session as long as the session lives (a year). An instance
that cannot reach Redis still writes and deletes sessions in the database, and the others would
go on reading the old copy for that long: a region chosen again, or an admin logout, unseen.
So the copy is written to live at most ``SESSION_COPY_TIMEOUT`` seconds; then the session is
read from the database again, once (one SQL statement per visitor every few minutes).
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.core.cache import caches

from .caching import VERSION_KEY, offer_version

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    """Django's cached_db (its keys, its deletes, the database behind), with the session read
    in the same round trip as the content version, and its copy written with a bounded life."""

    def load(self):
        cache = caches[settings.SESSION_CACHE_ALIAS]
        # The version's copy lives in the default cache: one round trip only when sessions do.
        together = settings.SESSION_CACHE_ALIAS == "default"
        try:
            found = cache.get_many([self.cache_key, VERSION_KEY] if together else [self.cache_key])
        except Exception:  # as Django's load(): a backend may refuse a key a client sent
            found = {}
        if together:
            offer_version(found.get(VERSION_KEY))
        data = found.get(self.cache_key)
        if data is not None:
            return data
        # Not in the cache (Redis restarted, or away, or the copy's time is up): the database.
        data = db.SessionStore.load(self)
        if self.session_key:  # None once the database had no such session
            # Only Django knows the session's remaining life here: one with less left than
            # SESSION_COPY_TIMEOUT (a staff session idle for hours, read on a public page) may
            # outlive its end in the database by that much at most.
            self._keep_copy(data, settings.SESSION_COPY_TIMEOUT)
        return data

    def save(self, must_create=False):
        db.SessionStore.save(self, must_create)
        self._keep_copy(
            dict(self.items()), min(settings.SESSION_COPY_TIMEOUT, self.get_expiry_age())
        )

    def _keep_copy(self, data: dict, seconds: int) -> None:
        try:
            caches[settings.SESSION_CACHE_ALIAS].set(self.cache_key, data, seconds)
        except Exception:  # as Django's own cached_db: the session is in the database
            logger.exception("Session copy: the cache does not answer")
