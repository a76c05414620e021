"""What public pages show, cached with Django's cache API and dropped when the content changes.

Everything cached from the content (the region index, a region's files, whole public pages) is
stored with the *content version* it was built under: a number in the database
(``ContentVersion``), raised in the same transaction as any save or delete of a watched model
(``watch``; bulk writes, which send no signals, raise it themselves). A stored
value is used only while its number is the current one. So a change is seen at once by every
process and instance, and a page rendered from old rows during a transaction never outlives it.

The values themselves live in each process's memory (the ``content`` cache, local memory):
only the version decides whether one may be shown, and the version is shared, so nothing kept
per process decides what a visitor sees. The current number is read once per request
(``content_scope``, opened by RegionMiddleware), and again after the request writes:

- With a per-process default cache (the embedded default), from the database.
- With a shared cache (Redis), from a copy in it, so that a cached page costs no database
  query at all; for a visitor with a session, in the very round trip that reads the session
  (``regions.sessions``), so that such a page costs one round trip to Redis, not two. The
  writer sets the copy once its transaction has committed; readers take the number from the
  database when the copy is missing, or inside a transaction (which may have raised it). The
  copy lives ``CONTENT_VERSION_TIMEOUT`` seconds: an invalidation lost while Redis was away is
  healed within that time, and so is an older number set last by two writers committing
  together.

Values left under old versions are replaced when rebuilt, and expire by ``CONTENT_TIMEOUT``.

``public_page`` caches a public GET page whole, keyed by what a page may depend on: the path,
what the visitor's region is made from (the session's region code, the trusted geo header) and
what ``settings.PUBLIC_PAGE_VARIES_BY`` names: functions of the request, each giving a short,
validated value, empty for a newcomer. The project names the choice of the version for visually
impaired people there (``omsportal.special.page_variant``: the validated ``special`` cookie,
which decides whether the page links that version's stylesheet). Pages must not depend on
anything else of the request (query string, other cookies, host): that is what lets nginx keep
a newcomer's page, which has neither a session nor a choice, and serve it to every newcomer.
``omsportal.middleware.CacheHeadersMiddleware`` turns the mark this decorator leaves into
``Cache-Control``.
"""

import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, wraps
from http import HTTPStatus
from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.http.request import HttpHeaders
from django.middleware.gzip import GZipMiddleware
from django.utils.cache import patch_vary_headers, set_response_etag
from django.utils.html import escape
from django.utils.http import quote_etag
from django.utils.module_loading import import_string

from .redirects import safe_next

T = TypeVar("T")

_MISSING = object()
# The default cache's copy of the content version (a shared one's: Redis).
VERSION_KEY = "content-version"
# The per-process cache (settings.CACHES); what it holds is used only under the version it was
# built with.
CONTENT_CACHE = "content"
# The version read during the current request: {"number": n} once read, {} before that and
# after a write (bump_content_version), None outside a request (content_scope).
_scoped_version: ContextVar[dict | None] = ContextVar("content_version", default=None)
# Inside content_writes(): the changes noted, for one raise of the version at its end.
_pending_writes: ContextVar[list | None] = ContextVar("content_writes", default=None)


def _read_version() -> int:
    from .models import ContentVersion

    # Read on every request without a shared cache: plain SQL costs a fraction of building
    # the ORM query each time.
    table = connection.ops.quote_name(ContentVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number FROM {table} WHERE id = %s", [ContentVersion.SINGLETON])  # noqa: S608 - the table name is the model's
        row = cursor.fetchone()
    return row[0] if row else 0


def _copy_is_trusted() -> bool:
    """Whether the shared cache's copy of the version may stand for the database's: not inside a
    transaction, which may have raised the number itself."""
    return settings.SHARED_CACHE and transaction.get_autocommit()


def _current_version() -> int:
    if not _copy_is_trusted():
        return _read_version()
    number = cache.get(VERSION_KEY)
    if number is None:
        number = _read_version()
        # add, not set: a writer's newer number, set meanwhile, wins.
        cache.add(VERSION_KEY, number, settings.CONTENT_VERSION_TIMEOUT)
    return number


def content_version() -> int:
    scope = _scoped_version.get()
    if scope is None:
        return _current_version()
    if "number" not in scope:
        scope["number"] = _current_version()
    return scope["number"]


def assume_version_of(*parts: object) -> bool:
    """For the rest of this request, content as of the version ``cached_content(*parts)`` was
    last built under, without asking the database: for a page that must still say something
    while it is away (the appeal form given back with what was typed). False if this process
    holds no such value.

    What was built under that version with it is in this process's memory too (pages show the
    region index with the footer's company record and the subjects); what changed since is not
    seen, which is better than the 500 page."""
    scope = _scoped_version.get()
    stored = caches[CONTENT_CACHE].get(_content_key(parts))
    if scope is None or stored is None:
        return False
    scope["number"] = stored[0]
    return True


def offer_version(number: int | None) -> None:
    """The shared cache's copy of the version, fetched along with something else (a session):
    this request need not ask for it again."""
    scope = _scoped_version.get()
    if scope is not None and number is not None and "number" not in scope and _copy_is_trusted():
        scope["number"] = number


@contextmanager
def content_scope():
    """Read the content version once inside this block (one request), and once more after each
    write it makes (``bump_content_version``)."""
    token = _scoped_version.set({})
    try:
        yield
    finally:
        _scoped_version.reset(token)


def bump_content_version(**kwargs) -> None:
    """Make everything cached from the content stale, in the current transaction.

    A signal receiver as it stands; bulk writes, which send no signals, call it themselves.
    Inside ``content_writes()`` it only notes the change.
    """
    from .models import ContentVersion

    pending = _pending_writes.get()
    if pending is not None:
        pending.append(kwargs.get("sender"))
        return

    updated = ContentVersion.objects.filter(pk=ContentVersion.SINGLETON).update(
        number=F("number") + 1
    )
    if not updated:
        ContentVersion.objects.get_or_create(pk=ContentVersion.SINGLETON, defaults={"number": 1})
    scope = _scoped_version.get()
    if scope is not None:
        # This request has written: whatever it caches from now on must not use the old number.
        scope.pop("number", None)
    if settings.SHARED_CACHE:
        # Only once committed: readers meanwhile still see the old rows, under the old number.
        number = _read_version()
        timeout = settings.CONTENT_VERSION_TIMEOUT
        transaction.on_commit(lambda: cache.set(VERSION_KEY, number, timeout))


@contextmanager
def content_writes():
    """Many rows written, one raise of the content version, at the end of the block.

    ``QuerySet.delete()`` sends post_delete for every row it deletes, and a save per row sends
    post_save for each: without this, an import deleting 10,000 rows of reception hours would
    update the version's row 10,000 times. Use it inside the transaction of the writes.
    """
    if transaction.get_autocommit():
        # Outside a transaction, writes made before an error would raise nothing at all.
        raise RuntimeError("content_writes() belongs inside transaction.atomic()")
    if _pending_writes.get() is not None:  # nested: the outermost block raises it
        yield
        return
    pending: list = []
    token = _pending_writes.set(pending)
    try:
        yield
    finally:
        _pending_writes.reset(token)
    if pending:
        bump_content_version()


# The models watch() was called for ("app.Model"): tests check that no content model is missing.
WATCHED: set[str] = set()


def watch(*models) -> None:
    """Drop everything cached from the content when a row of one of these models changes.

    Every model a public page shows must be watched (in its app's ``ready()``); a test fails for
    a model of the content apps that is not. post_save and post_delete also fire for
    ``loaddata`` (raw saves), admin edits and ``QuerySet.delete()`` (admin's delete action),
    since a receiver is connected. Writes that send no signal (``QuerySet.update()``,
    ``bulk_create``/``bulk_update``, raw SQL, data migrations) must call
    ``bump_content_version()`` themselves in their transaction, as the import does.
    """
    for model in models:
        WATCHED.add(model._meta.label)
        for signal in (post_save, post_delete):
            signal.connect(
                bump_content_version,
                sender=model,
                weak=False,
                dispatch_uid=f"content-version:{model._meta.label}:{signal}",
            )


def _get(key: str) -> tuple[int, object]:
    """The current content version, and what ``key`` holds for it (``_MISSING`` if nothing)."""
    version = content_version()
    stored = caches[CONTENT_CACHE].get(key)
    if stored is not None and stored[0] == version:
        return version, stored[1]
    return version, _MISSING


def _content_key(parts: tuple) -> str:
    return ":".join(["content", *map(str, parts)])


def cached_content(*parts: object, build: Callable[[], T], keep_none: bool = True) -> T:
    """``build()`` once per content version: e.g. a region's files keyed by the region.

    ``keep_none=False`` for look-ups by what a visitor sends (an id): made-up ids that find
    nothing must not fill the cache.
    """
    key = _content_key(parts)
    version, value = _get(key)
    if value is _MISSING:
        value = build()
        if value is not None or keep_none:
            caches[CONTENT_CACHE].set(key, (version, value), settings.CONTENT_TIMEOUT)
    return value


# Stands for the page's ``next`` value in a stored page; put back per request, escaped.
NEXT_MARK = "@@next-page@@"


def page_variants(request) -> list[str]:
    """What else of the request public pages show (settings.PUBLIC_PAGE_VARIES_BY, the special
    version's choice): set in settings, since the apps never import the project package. Empty
    strings for a newcomer; any other value makes the page personal (CacheHeadersMiddleware)."""
    return [view(request) for view in _variant_functions(tuple(settings.PUBLIC_PAGE_VARIES_BY))]


@lru_cache
def _variant_functions(names: tuple[str, ...]) -> list[Callable]:
    # Resolved once per setting's value, not on every request.
    return [import_string(name) for name in names]


def _page_key(request) -> str:
    # What the visitor's region is made from (RegionMiddleware.inputs), not the region itself:
    # the same inputs give the same region under the same content version, and reading them
    # costs no look-up in the region index.
    from .middleware import RegionMiddleware  # it opens this module's content_scope

    chosen, suggested = RegionMiddleware.inputs(request)
    variants = page_variants(request)
    path = hashlib.sha256(request.path.encode()).hexdigest()[:32]
    return ":".join(["page", path, *(part or "-" for part in [chosen, suggested, *variants])])


def public_page(view):
    """A public GET page: kept whole per path, region, confirmation and PUBLIC_PAGE_VARIES_BY
    value until the content changes.

    The view may use the visitor's region (``request.region``, ``request.region_confirmed``)
    and ``NEXT_MARK`` for the safe ``next`` path it was asked to return to; nothing else of the
    request: any other query string is answered with a redirect to the page's one address
    (``_one_address``). The response is marked ``public_page`` for CacheHeadersMiddleware, which
    makes it ``public`` for a newcomer and ``private`` for a visitor with a session or a special
    version's choice.

    A newcomer's page is compressed (gzip) for a client that asks, since it holds nothing
    personal: nginx asks for what its cache may keep, and keeps it compressed
    (deploy/nginx.conf). A visitor's own page is compressed by nginx as it is sent.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        key = _page_key(request)
        version, stored = _get(key)
        if stored is not _MISSING:
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
                # Kept with the page: ConditionalGetMiddleware would hash the same bytes on
                # every request.
                set_response_etag(response)
                # With the headers the view set (type, attachment name, its own cache rules).
                stored = (response.content, dict(response.items()))
                caches[CONTENT_CACHE].set(key, (version, stored), settings.CONTENT_TIMEOUT)
        # The return path the page was asked for, if it is one; "" for none or one refused.
        next_path = (
            safe_next(request, fallback="") if NEXT_MARK.encode() in response.content else None
        )
        if request.META.get("QUERY_STRING") and response.status_code == HTTPStatus.OK:
            address = _one_address(request, next_path)
            if address is not None:
                return HttpResponsePermanentRedirect(address)
        if next_path is not None:
            next_path = escape(next_path or "/")
            response.content = response.content.replace(NEXT_MARK.encode(), next_path.encode())
            if response.has_header("ETag"):
                # The stored page and the next path make the bytes, so their hashes together
                # tell versions apart: no hashing of the whole page (18 KB) per request.
                both = f"{response['ETag']} {next_path}".encode()
                response["ETag"] = quote_etag(hashlib.md5(both, usedforsecurity=False).hexdigest())
        if settings.REGION_HEADER:
            # The prompt may follow the trusted geo header: a cache that honours Vary keeps one
            # per value; nginx ignores Vary, and needs the header in its key
            # (deploy/nginx/proxy-headers.conf).
            vary = HttpHeaders.parse_header_name(settings.REGION_HEADER)
            patch_vary_headers(response, [vary])
        if is_newcomer(request):
            response = compressed(request, response)
        return mark_public(response)

    return wrapped


def is_newcomer(request) -> bool:
    """Neither a session nor a choice of PUBLIC_PAGE_VARIES_BY: a public page for this request
    is the one every newcomer gets, which a shared cache may keep (CacheHeadersMiddleware) and
    Django compresses. nginx tells the same by the cookies alone; where the two read a cookie
    differently (``sessionid=; sessionid=…``), Django's word decides."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and not any(page_variants(request))


# What public_page compresses: text, as nginx's gzip_types (deploy/nginx.conf). An XLSX or a
# PDF is compressed already; gzip would only cost time and bytes.
COMPRESSED_TYPES = {
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "application/json",
    "application/xml",
    "image/svg+xml",
}
# Django's own middleware as a response filter (process_response): the same Vary, weak ETag and
# BREACH padding as GZipMiddleware in MIDDLEWARE, on what anyone may see only.
_gzip = GZipMiddleware(lambda request: None)


def compressed(request, response):
    """Text the same for everyone, gzipped if the client asks: nginx asks for what its cache may
    keep (deploy/nginx.conf), which then costs no compression per hit. Never for a response
    that holds anything personal (a CSRF token, a name): BREACH guesses it from the size."""
    if response.get("Content-Type", "").partition(";")[0] in COMPRESSED_TYPES:
        return _gzip.process_response(request, response)
    return response


def _one_address(request, next_path: str | None) -> str | None:
    """The page's one address, if the query string is not exactly what the page reads, as the
    site writes it; None if it is.

    A shared cache keys by path and query: each made-up query (tracking tags, made-up values,
    a stray ``&``, ``next`` spelt another way) was another copy of the same page on nginx's
    disk, pushing out the pages newcomers ask for. The one address is a redirect away, and
    only the region list's ``next`` (``NEXT_MARK``) is kept, when it is a path of this site:
    one the page would refuse (``//elsewhere``) is dropped, as the page drops it.
    """
    query = ""
    if next_path:
        query = urlencode({"next": next_path}, safe="/")
    if request.META["QUERY_STRING"] == query:
        return None
    path = "/" + request.path.lstrip("/")  # never "//host": the redirect stays on this site
    return f"{path}?{query}" if query else path


def mark_public(response):
    """The same for every newcomer: CacheHeadersMiddleware lets shared caches keep it."""
    response.public_page = True
    return response
