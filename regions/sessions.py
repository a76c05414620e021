"""Django's cached_db sessions, read in the same round trip as the content version.

The session engine with a shared cache (settings.SESSION_ENGINE). A visitor with a session is
shown pages kept per content version (regions/caching.py): asking Redis for the session and the
version at once makes such a page one round trip instead of two, which is most of what it costs
(docs/performance.md). Everything else is Django's: the keys, the database behind the cache.
"""

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.core.cache import caches

from .caching import VERSION_KEY, offer_version


class SessionStore(cached_db.SessionStore):
    def load(self):
        # The version's copy lives in the default cache: one round trip only when sessions do.
        if settings.SESSION_CACHE_ALIAS != "default":
            return super().load()
        try:
            found = caches["default"].get_many([self.cache_key, VERSION_KEY])
        except Exception:  # as Django's load(): a backend may refuse a key a client sent
            return super().load()
        offer_version(found.get(VERSION_KEY))
        data = found.get(self.cache_key)
        # Not in the cache (Redis restarted, or away): Django's own way, from the database.
        return data if data is not None else super().load()
