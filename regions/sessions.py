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

nginx serves its copy of a page only to requests without the session cookie, so any invented
``sessionid`` reaches Django, and every page that reads the session asks the store: the database's
"no such session" is kept in the cache too, for ``SESSION_COPY_TIMEOUT``, like a copy (a flood
repeating one made-up cookie costs one SQL statement per key every few minutes, not one per
page). It cannot hide a session: Django never saves one under a key the database lacked (a
visitor without a session gets a new random key, checked unused), and a save drops the miss.
A value that is not a key Django makes (32 of [a-z0-9]) is no session at once, looked up nowhere
and remembered nowhere: a flood of long made-up cookies filled Redis by 7 KB a request, until
its memory limit evicted the rate limits' counters with the rest.
"""

import logging
import re

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.core.cache import caches

from .caching import VERSION_KEY, offer_version

logger = logging.getLogger(__name__)

# Not under cached_db's prefix: no cookie value can name it as a session's copy, and an older
# release, reading copies only, never takes it for one (it just asks the database, as before).
MISSING_PREFIX = "regions.sessions.missing:"
# What SessionBase._get_new_session_key makes: 32 characters of VALID_KEY_CHARS.
DJANGO_SESSION_KEY = re.compile(f"[{re.escape(VALID_KEY_CHARS)}]{{32}}")


class SessionStore(cached_db.SessionStore):
    """Django's cached_db (its keys, its deletes, the database behind), with the session read
    in the same round trip as the content version, and its copy written with a bounded life."""

    def load(self):
        cache = caches[settings.SESSION_CACHE_ALIAS]
        key = self.session_key
        if not DJANGO_SESSION_KEY.fullmatch(key):
            # As for a key the database lacks: no session, and a new key if one is saved.
            self._session_key = None
            return {}
        copy_key, missing_key = self.cache_key, MISSING_PREFIX + key
        # The version's copy lives in the default cache: one round trip only when sessions do.
        together = settings.SESSION_CACHE_ALIAS == "default"
        try:
            found = cache.get_many(
                [copy_key, missing_key, VERSION_KEY] if together else [copy_key, missing_key]
            )
        except Exception:  # as Django's load(): a backend may refuse a key a client sent
            found = {}
        if together:
            offer_version(found.get(VERSION_KEY))
        data = found.get(copy_key)
        if data is not None:
            return data
        if found.get(missing_key):
            # What the database answered a moment ago, and Django's own load() does with it:
            # no session, and no key to save under (a save creates a new one, as for a
            # newcomer, and the cookie is deleted).
            self._session_key = None
            return {}
        # Not in the cache (Redis restarted, or away, or the copy's time is up): the database.
        data = db.SessionStore.load(self)
        if self.session_key:  # None once the database had no such session
            # Only Django knows the session's remaining life here: one with less left than
            # SESSION_COPY_TIMEOUT (a staff session idle for hours, read on a public page) may
            # outlive its end in the database by that much at most.
            self._keep_copy(data, settings.SESSION_COPY_TIMEOUT)
        else:
            self._in_cache("set", missing_key, True, settings.SESSION_COPY_TIMEOUT)
        return data

    def save(self, must_create=False):
        if self.session_key is None:
            # As Django's: a new key, saved through this method once; not a second copy here.
            return self.create()
        db.SessionStore.save(self, must_create)
        self._keep_copy(
            dict(self.items()), min(settings.SESSION_COPY_TIMEOUT, self.get_expiry_age())
        )
        # The copy is read first, but may end before a miss remembered earlier (a shorter
        # expiry, an eviction): the miss must not outlive a session saved under its key.
        self._in_cache("delete", MISSING_PREFIX + self.session_key)

    def _keep_copy(self, data: dict, seconds: int) -> None:
        self._in_cache("set", self.cache_key, data, seconds)

    def _in_cache(self, method: str, *args) -> None:
        try:
            getattr(caches[settings.SESSION_CACHE_ALIAS], method)(*args)
        except Exception:  # as Django's own cached_db: the session is in the database
            logger.exception("Session copy: the cache does not answer")
