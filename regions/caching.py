"""What public pages show, cached with Django's cache API and dropped when the content changes.

Everything cached from the content (the region index, a region's files, whole public pages) is
keyed by one *content version*: a number in the database (``ContentVersion``), raised in the
same transaction as any change to a watched model. So:

- a change is seen at once by every process and instance, whatever cache backend is configured
  (the per-process local-memory cache of the embedded default included): they all read the
  version from the same database;
- an invalidation cannot be lost while the cache is unreachable, and a page rendered from old
  rows during a transaction is stored under the old version only;
- entries left under old versions expire by ``CONTENT_TIMEOUT`` (settings, minutes).

The version is read from the database once per request (``content_scope``, opened by
RegionMiddleware) and once per call outside requests (management commands, tests).

``public_page`` caches a public GET page whole, keyed by what a page may depend on: the path,
the visitor's region and whether they confirmed it. Pages must not depend on anything else of
the request (query string, cookies, host): that is what lets nginx keep a newcomer's page and
serve it to every newcomer. ``omsportal.middleware.CacheHeadersMiddleware`` turns the mark this
decorator leaves into ``Cache-Control``.
"""

import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from http import HTTPStatus
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.html import escape

from .redirects import safe_next

T = TypeVar("T")

_MISSING = object()
# The version read during the current request; None outside a request.
_scoped_version: ContextVar[dict | None] = ContextVar("content_version", default=None)


def _read_version() -> int:
    from .models import ContentVersion

    # Every request reads it: plain SQL costs a fraction of building the ORM query each time.
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number FROM {table} WHERE id = %s", [ContentVersion.SINGLETON])  # noqa: S608 - the table name is the model's
        row = cursor.fetchone()
    return row[0] if row else 0


def content_version() -> int:
    scope = _scoped_version.get()
    if scope is None:
        return _read_version()
    if "number" not in scope:
        scope["number"] = _read_version()
    return scope["number"]


@contextmanager
def content_scope():
    """Read the content version at most once inside this block (one request)."""
    token = _scoped_version.set({})
    try:
        yield
    finally:
        _scoped_version.reset(token)


def bump_content_version(**kwargs) -> None:
    """Make everything cached from the content unreachable, in the current transaction.

    A signal receiver as it stands; bulk writes, which send no signals, call it themselves.
    """
    from .models import ContentVersion

    updated = ContentVersion.objects.filter(pk=ContentVersion.SINGLETON).update(
        number=F("number") + 1
    )
    if not updated:
        ContentVersion.objects.get_or_create(pk=ContentVersion.SINGLETON, defaults={"number": 1})
    scope = _scoped_version.get()
    if scope is not None:
        # This request has written: whatever it caches from now on must not use the old number.
        scope.pop("number", None)


def watch(*models) -> None:
    """Drop everything cached from the content when a row of one of these models changes.

    post_save and post_delete also fire for ``loaddata`` (raw saves), admin edits and
    ``QuerySet.delete()`` (admin's delete action), since a receiver is connected.
    """
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                bump_content_version,
                sender=model,
                weak=False,
                dispatch_uid=f"content-version:{model._meta.label}:{signal}",
            )


def content_key(*parts: object) -> str:
    return ":".join(["content", str(content_version()), *map(str, parts)])


def cached_content(*parts: object, build: Callable[[], T]) -> T:
    """``build()`` once per content version: e.g. a region's files keyed by the region."""
    key = content_key(*parts)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        cache.set(key, value, settings.CONTENT_TIMEOUT)
    return value


# Stands for the page's ``next`` value in a stored page; put back per request, escaped.
NEXT_MARK = "@@next-page@@"


def _page_key(request) -> str:
    # What the visitor's region is made from (RegionMiddleware.inputs), not the region itself:
    # the same inputs give the same region under the same content version, and reading them
    # costs no look-up in the region index.
    from .middleware import RegionMiddleware  # it opens this module's content_scope

    chosen, suggested = RegionMiddleware.inputs(request)
    path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
    return content_key("page", path, chosen or "-", suggested or "-")


def public_page(view):
    """A public GET page: kept whole per (path, region, confirmation) until the content changes.

    The view may use the visitor's region (``request.region``, ``request.region_confirmed``)
    and ``NEXT_MARK`` for the safe ``next`` path it was asked to return to; nothing else of the
    request. The response is marked ``public_page`` for CacheHeadersMiddleware, which makes it
    ``public`` for a newcomer and ``private`` for a visitor with a session.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        key = _page_key(request)
        stored = cache.get(key)
        if stored is not None:
            content, headers = stored
            response = HttpResponse(content, headers=headers)
        else:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()  # a TemplateResponse (the sitemap): its bytes are kept
            if (
                response.status_code == HTTPStatus.OK
                and not response.streaming
                and not response.cookies
            ):
                # With the headers the view set (type, attachment name, its own cache rules).
                stored = (response.content, dict(response.items()))
                cache.set(key, stored, settings.CONTENT_TIMEOUT)
        if NEXT_MARK.encode() in response.content:
            next_path = escape(safe_next(request)).encode()
            response.content = response.content.replace(NEXT_MARK.encode(), next_path)
        if settings.REGION_HEADER:
            # The prompt may follow the trusted geo header: a shared cache keeps one per value.
            patch_vary_headers(response, [header_name(settings.REGION_HEADER)])
        return mark_public(response)

    return wrapped


def header_name(meta_key: str) -> str:
    """ "HTTP_X_GEO_REGION" -> "X-Geo-Region", as Vary names it."""
    return "-".join(part.capitalize() for part in meta_key.removeprefix("HTTP_").split("_"))


def mark_public(response):
    """The same for every newcomer: CacheHeadersMiddleware lets shared caches keep it."""
    response.public_page = True
    return response
