"""Test settings: the same settings module, with the environment a test run needs.

DATABASE_URL and CACHE_URL from the environment are honoured, so the same suite runs on SQLite
and on PostgreSQL.
"""

import os
import tempfile

# Production's settings, whatever the shell running the tests has for local work (DEBUG=1 turns
# off secure cookies and JSON logs, which tests check).
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="omsportal-media-"))
# An existing, empty STATIC_ROOT: tests find static files through the finders.
os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="omsportal-static-"))

from omsportal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# pytest-xdist: each worker process clears the cache between tests, and a Redis cache is
# cleared by flushing its database, so each worker gets a database of its own (12, 13, …; the
# tests that start their own servers use 5 to 11).
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":  # noqa: F405
    _location = CACHES["default"]["LOCATION"].rsplit("/", 1)[0]  # noqa: F405
    CACHES["default"]["LOCATION"] = f"{_location}/{12 + int(_worker.removeprefix('gw'))}"  # noqa: F405
# Tests read templates and static names without running collectstatic first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
