"""Caching of what public pages show, dropped the moment staff save a change.

Everything cached from the content (the region index, per-region data, whole responses) is
keyed by one *content version*. Saving or deleting any watched model (``watch(Model)``) sets a
new version, so every page and datum made from the old content is out of reach at once, on
every instance that shares the cache (FrontCache in other processes: within VERSION_TRUST).
Staff edits are rare and re-rendering a few dozen pages after one costs nothing, while a finer
scheme (per region, per file) would have to know every page a change shows up on: a region
renamed changes the file list, the sitemap and the contacts downloads too. Old entries expire
by their timeout.

Two decorators for views:

- ``shared_page``: the response is the same for every visitor (region pages, files, sitemap,
  robots.txt). Cached whole, with an ETag, per scheme, host and path.
- ``regional_page``: the response depends only on the visitor's region and whether they have
  confirmed it (home, rights, region list): it carries the region prompt with a CSRF form.
  Cached per path, region and confirmation with the CSRF token cut out; each visitor gets
  their own token put back in.

Requests with a query string are rendered every time: the query is the visitor's to choose,
and caching on it would let anyone fill the cache.

``FrontCache`` wraps the WSGI application: a response a view marked with
``mark_same_for_every_visitor`` (or a hashed static file) is stored as the bytes Django sent,
headers and all, and the next identical request is answered from the cache before Django runs;
so is a ``regional_page`` for newcomers (no cookie), with a new CSRF secret and token each.
"""

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from http import HTTPStatus
from types import SimpleNamespace
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import get_path_info
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils.cache import patch_cache_control

from .logs import log_request, request_id_from, request_id_var

T = TypeVar("T")

VERSION_KEY = "content:version"
# Bounds how long time-dependent content (the date in a generated file's name) can lag.
TIMEOUT = 60 * 60
_MISSING = object()


# Per request served through FrontCache: the content version once read, so that a request
# reads it once (a shared Redis costs a round trip per read), in the same round trip as the
# front cache lookup when there is one.
_request_scope: ContextVar[dict | None] = ContextVar("content_scope", default=None)


def content_version() -> str:
    scope = _request_scope.get()
    if scope is not None and "version" in scope:
        return scope["version"]
    version = cache.get(VERSION_KEY)
    if version is None:
        # add() so that instances starting together on an empty cache agree on one version.
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    if version is None:
        # The cache does not answer: a version of our own that nothing was ever stored under,
        # so every read misses and the page is made from the database.
        version = uuid.uuid4().hex
    if scope is not None:
        scope["version"] = version
    return version


def _new_version() -> None:
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, timeout=None)
    scope = _request_scope.get()
    if scope is not None:
        scope["version"] = version
    _trust_version(version)


def bump_content_version(**kwargs) -> None:
    # Now, for the rest of this request, and again after commit, so that a page another
    # instance rendered from the old rows during the transaction cannot stay cached.
    _new_version()
    transaction.on_commit(_new_version)


def watch(*models) -> None:
    """Drop everything cached from the content when a row of one of these models changes."""
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                bump_content_version,
                sender=model,
                weak=False,
                dispatch_uid=f"content-version:{model._meta.label}:{signal}",
            )


def content_key(*parts: object, version: str | None = None) -> str:
    return ":".join(["content", version or content_version(), *map(str, parts)])


def cached_content(
    *parts: object, build: Callable[[], T], timeout: int = TIMEOUT, version: str | None = None
) -> T:
    """``build()`` once per content version; e.g. a region's files keyed by the region."""
    key = content_key(*parts, version=version)
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = build()
        cache.set(key, value, timeout)
    return value


def _cacheable(request, response) -> bool:
    if hasattr(response, "render") and not response.is_rendered:
        response.render()  # a TemplateResponse (the sitemap): its content is needed now
    return (
        request.method in ("GET", "HEAD")
        and response.status_code == HTTPStatus.OK
        and not response.streaming
        and not response.cookies
    )


def _stored(response, content: bytes) -> tuple:
    return response.status_code, list(response.items()), content


def _restored(stored: tuple) -> HttpResponse:
    status, headers, content = stored
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response


def mark_same_for_every_visitor(response):
    """Let FrontCache keep this response's final bytes for every request to the same URL."""
    response.same_for_every_visitor = True
    return response


def shared_page(view):
    """Cache the whole response of a view that answers every visitor the same.

    Such a view must not read the session, the visitor's region or the CSRF token: a response
    that sets a cookie is never cached, and tests check these pages carry no ``Vary: Cookie``.
    Browsers keep the page but revalidate it (ETag → 304), so staff edits show up at once.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.META.get("QUERY_STRING"):
            return view(request, *args, **kwargs)
        key = content_key("shared", request.scheme, request.get_host(), request.path)
        stored = cache.get(key)
        if stored is not None:
            return mark_same_for_every_visitor(_restored(stored))
        response = view(request, *args, **kwargs)
        if _cacheable(request, response):
            mark_same_for_every_visitor(response)
            if not response.has_header("ETag"):
                response["ETag"] = f'"{hashlib.md5(response.content).hexdigest()}"'  # noqa: S324
            if not response.has_header("Cache-Control"):
                patch_cache_control(response, public=True, no_cache=True)
            cache.set(key, _stored(response, response.content), TIMEOUT)
        return response

    return wrapped


def _random_csrf_string() -> str:
    """CSRF_SECRET_LENGTH characters drawn uniformly from CSRF_ALLOWED_CHARS.

    Django's get_random_string makes one os.urandom call per character: 20 µs per string here,
    two strings per page, a sixth of a cached prompt page. Rejection sampling over one buffer of
    random bytes is as uniform and as unpredictable.
    """
    count = len(CSRF_ALLOWED_CHARS)
    limit = 256 - 256 % count
    drawn: list[str] = []
    while len(drawn) < CSRF_SECRET_LENGTH:
        buffer = secrets.token_bytes(CSRF_SECRET_LENGTH * 2)
        drawn.extend(CSRF_ALLOWED_CHARS[byte % count] for byte in buffer if byte < limit)
    return "".join(drawn[:CSRF_SECRET_LENGTH])


def csrf_token(request) -> str:
    """Does what django.middleware.csrf.get_token does (same format, same cookie handling).

    CsrfViewMiddleware sets the cookie from request.META and checks the token as usual; the
    tests post forms from cached pages with CSRF checks on.
    """
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = _random_csrf_string()
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _random_csrf_string()
    pairs = zip(
        map(CSRF_ALLOWED_CHARS.index, secret), map(CSRF_ALLOWED_CHARS.index, mask), strict=True
    )
    count = len(CSRF_ALLOWED_CHARS)
    return mask + "".join(CSRF_ALLOWED_CHARS[(x + y) % count] for x, y in pairs)


CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CSRF_PLACEHOLDER = b"@@csrf-token@@"


def without_csrf_token(content: bytes) -> bytes:
    return CSRF_INPUT.sub(rb"\1" + CSRF_PLACEHOLDER + rb"\2", content)


def regional_page(view):
    """Cache a page that differs between visitors only by their region and the prompt."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.META.get("QUERY_STRING"):
            return view(request, *args, **kwargs)
        region = request.region
        key = content_key(
            "regional",
            # The host too, as shared_page keys: pages print their own address (base.html).
            request.scheme,
            request.get_host(),
            request.path,
            region.code if region else "-",
            "confirmed" if request.region_confirmed else "asked",
        )
        stored = cache.get(key)
        if stored is None:
            response = view(request, *args, **kwargs)
            if _cacheable(request, response):
                cache.set(key, _stored(response, without_csrf_token(response.content)), TIMEOUT)
        else:
            response = _restored(stored)
            if CSRF_PLACEHOLDER in response.content:
                # One token for all the forms of a page, as Django's {% csrf_token %} gives.
                token = csrf_token(request).encode("ascii")
                response.content = response.content.replace(CSRF_PLACEHOLDER, token)
        # For FrontCache: the same for every newcomer, but for the CSRF token and cookie.
        response.regional_page = True
        return response

    return wrapped


# A process trusts the content version it last read for this long: a staff edit reaches the
# front caches of other processes and instances within a second (this process: at once), and
# a hit costs no round trip to a shared cache in between.
VERSION_TRUST = 1.0
_front_version: tuple[float, str | None] = (0.0, None)
# This process's copies of front cache entries, checked against the trusted version. Bounded:
# at most LOCAL_ENTRIES entries of at most LOCAL_BODY bytes each.
_front_entries: dict[str, tuple] = {}
LOCAL_ENTRIES, LOCAL_BODY = 256, 64 * 1024


def _trust_version(version: str) -> None:
    global _front_version
    _front_version = (time.monotonic(), version)


def forget_local_copies() -> None:
    """For tests that empty the shared cache: this process then reads it again."""
    global _front_version
    _front_version = (0.0, None)
    _front_entries.clear()


def _keep_locally(key: str, entry: tuple | None) -> None:
    if entry is None or len(entry[4]) > LOCAL_BODY:
        return
    if len(_front_entries) >= LOCAL_ENTRIES:
        _front_entries.clear()
    _front_entries[key] = entry


SHARED, PROMPT = "shared", "prompt"
# Made anew for each prompt page served from the front cache.
PER_RESPONSE_HEADERS = {"set-cookie", "etag", "content-length", "x-request-id"}
# Headers a 304 keeps (RFC 9110 15.4.5; the same list as django.utils.cache._not_modified).
NOT_MODIFIED_HEADERS = {"cache-control", "content-location", "etag", "expires", "vary"}


ENCODINGS = {"br": re.compile(r"\bbr\b"), "gzip": re.compile(r"\bgzip\b")}
# Static files up to this size are kept too (the stylesheet is 6 KB; its brotli form 2 KB).
FRONT_STATIC_LIMIT = 256 * 1024


class FrontCache:
    """WSGI middleware answering repeat requests for what is the same for every visitor.

    On a miss Django answers as usual. Kept, as sent (status, the headers every middleware
    added: security headers, CSP, ETag; body): a 200 to a GET that sets no cookie, does not
    vary on cookies, and is either marked ``same_for_every_visitor`` by its view or a static
    file whitenoise calls immutable (hashed name). The key holds all such an answer depends
    on: the content version, the scheme the proxy announced, the host, the path and which
    compressed forms the client accepts (whitenoise picks one by it). A host Django would refuse
    is never stored, so never answered here, and a plain-HTTP request keeps reaching Django's
    HTTPS redirect. Hits skip Django's middleware (request logging too): gunicorn's access log
    still sees them.
    """

    # Paths whose 200 was not for every visitor (prompt pages, the health check, admin): they
    # skip the lookup. Bounded, as the paths are the client's to choose; per process.
    PASS_LIMIT = 1024

    def __init__(self, application):
        self.application = application
        self.passed: set[str] = set()

    @staticmethod
    def key(environ) -> str | None:
        if (
            environ["REQUEST_METHOD"] not in ("GET", "HEAD")
            or environ.get("QUERY_STRING")
            or environ.get("HTTP_RANGE")
        ):
            return None
        scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ["wsgi.url_scheme"]
        accepted = environ.get("HTTP_ACCEPT_ENCODING", "").replace("*", "")
        encodings = "+".join(name for name, rule in ENCODINGS.items() if rule.search(accepted))
        parts = (scheme, environ.get("HTTP_HOST", ""), environ.get("SCRIPT_NAME", ""), encodings)
        request = "\n".join([*parts, environ.get("PATH_INFO", "")]).encode("utf-8", "replace")
        return "content:front:" + hashlib.sha256(request).hexdigest()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))

        def answer(status, headers):
            # A hit is a request like any other: its own id, its line in the request log.
            start_response(status, [*headers, ("X-Request-ID", request_id)])
            id_token = request_id_var.set(request_id)
            try:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                log_request(
                    environ["REQUEST_METHOD"], get_path_info(environ), int(status[:3]), duration_ms
                )
            finally:
                request_id_var.reset(id_token)

        scope = {}
        token = _request_scope.set(scope)
        try:
            key = self.key(environ)
            if key is None or key in self.passed:
                return self.application(environ, start_response)
            stored = self._lookup(key, scope)
            if stored is not None and stored[0] == content_version():
                _, kind, status, headers, body, etag = stored
                if kind == PROMPT:
                    if self._newcomer(environ):
                        return self._prompt(answer, status, headers, body)
                elif etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
                    kept = [(n, v) for n, v in headers if n.lower() in NOT_MODIFIED_HEADERS]
                    answer("304 Not Modified", kept)
                    return []
                else:
                    answer(status, headers)
                    return [body]
            return self._miss(environ, start_response, key)
        finally:
            _request_scope.reset(token)

    def _lookup(self, key, scope):
        """The entry for key: from this process while its copy of the version is fresh, else
        with the version in one round trip (the entry names the version it was made from)."""
        read_at, version = _front_version
        if version is not None and time.monotonic() - read_at < VERSION_TRUST:
            scope["version"] = version
            stored = _front_entries.get(key)
            if stored is None or stored[0] != version:
                stored = cache.get(key)
                _keep_locally(key, stored)
            return stored
        found = cache.get_many([VERSION_KEY, key])
        if VERSION_KEY in found:
            scope["version"] = found[VERSION_KEY]
            _trust_version(found[VERSION_KEY])
        stored = found.get(key)
        _keep_locally(key, stored)
        return stored

    def _miss(self, environ, start_response, key):
        sent = {}

        def remember(status, headers, exc_info=None):
            sent.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        response = self.application(environ, remember)
        # Only a GET: Django and whitenoise may answer a HEAD without its body.
        if environ["REQUEST_METHOD"] != "GET":
            return response
        if getattr(response, "regional_page", False):
            if self._newcomer(environ):
                self._store_prompt(key, sent, response)
            return response
        if not self._shared(sent):
            return self._pass(key, sent, response)
        names = {name.lower(): value for name, value in sent["headers"]}
        if getattr(response, "same_for_every_visitor", False) and not response.streaming:
            body = response.content
        elif (
            "immutable" in names.get("cache-control", "")
            and int(names.get("content-length", FRONT_STATIC_LIMIT + 1)) <= FRONT_STATIC_LIMIT
        ):
            # gunicorn's file wrapper around whitenoise's file: read it once, here.
            try:
                body = b"".join(response)
            finally:
                if hasattr(response, "close"):
                    response.close()
            response = [body]
        else:
            return self._pass(key, sent, response)
        version = content_version()  # the version this response was rendered under
        # The request id was this request's: a hit gets its own.
        headers = [(n, v) for n, v in sent["headers"] if n.lower() != "x-request-id"]
        entry = (version, SHARED, sent["status"], headers, body, names.get("etag"))
        cache.set(key, entry, TIMEOUT)
        _keep_locally(key, entry)
        return response

    @staticmethod
    def _newcomer(environ) -> bool:
        """A visitor without cookies: no session, so the default region, asked about."""
        return (
            "HTTP_COOKIE" not in environ
            and not settings.REGION_HEADER
            and not settings.CSRF_USE_SESSIONS
        )

    @staticmethod
    def _store_prompt(key, sent, response) -> None:
        headers = sent.get("headers", [])
        cookies = [value.strip() for name, value in headers if name.lower() == "set-cookie"]
        # Exactly the CSRF cookie: a newcomer gets no session, and nothing else is expected.
        only_csrf = len(cookies) == 1 and cookies[0].startswith(f"{settings.CSRF_COOKIE_NAME}=")
        if not sent.get("status", "").startswith("200") or response.streaming or not only_csrf:
            return
        kept = [(n, v) for n, v in headers if n.lower() not in PER_RESPONSE_HEADERS]
        template = without_csrf_token(response.content)
        entry = (content_version(), PROMPT, sent["status"], kept, template, None)
        cache.set(key, entry, TIMEOUT)
        _keep_locally(key, entry)

    @staticmethod
    def _prompt(answer, status, headers, template):
        """The prompt page with a new CSRF secret in its cookie and a token masked from it."""
        meta = {}
        body = template.replace(CSRF_PLACEHOLDER, csrf_token(SimpleNamespace(META=meta)).encode())
        # The cookie exactly as CsrfViewMiddleware sets it.
        cookie = HttpResponse()
        cookie.set_cookie(
            settings.CSRF_COOKIE_NAME,
            meta["CSRF_COOKIE"],
            max_age=settings.CSRF_COOKIE_AGE,
            domain=settings.CSRF_COOKIE_DOMAIN,
            path=settings.CSRF_COOKIE_PATH,
            secure=settings.CSRF_COOKIE_SECURE,
            httponly=settings.CSRF_COOKIE_HTTPONLY,
            samesite=settings.CSRF_COOKIE_SAMESITE,
        )
        set_cookie = cookie.cookies[settings.CSRF_COOKIE_NAME].output(header="")  # as Django
        extra = [("Content-Length", str(len(body))), ("Set-Cookie", set_cookie)]
        answer(status, [*headers, *extra])
        return [body]

    def _pass(self, key, sent, response):
        if sent.get("status", "").startswith("200") and len(self.passed) < self.PASS_LIMIT:
            self.passed.add(key)
        return response

    @staticmethod
    def _shared(sent) -> bool:
        names = {name.lower(): value for name, value in sent.get("headers", [])}
        vary = {part.strip().lower() for part in names.get("vary", "").split(",")}
        return (
            sent.get("status", "").startswith("200")
            and "set-cookie" not in names
            and "cookie" not in vary
        )
