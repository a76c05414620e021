"""The site's middleware: the request log, Permissions-Policy and cache headers."""

import time

from django.conf import settings
from django.utils.cache import patch_cache_control

from .logs import log_request, request_id_from, request_id_var


class RequestLogMiddleware:
    """One log line per request, and a request id shared by the logs and the response.

    First in MIDDLEWARE: it times everything else, sees the redirects and refusals of the
    middleware below it, and puts ``X-Request-ID`` on every response. It reads no session and
    no user, so a page that touches neither stays free of them. The line has the path without
    its query string, and nothing of the client: no address, cookie, header or body.
    """

    header = "X-Request-ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(self.header))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[self.header] = request_id
            self.log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    @staticmethod
    def log(request, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        log_request(request.method, request.path, status, duration_ms)


class PermissionsPolicyMiddleware:
    """Turns off the browser features the site never uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(
            f"{feature}=({' '.join(allow)})"
            for feature, allow in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.value)
        return response


class CacheHeadersMiddleware:
    """Says who may keep a response, from what the view marked and what the response carries.

    - A public page (``regions.caching.public_page`` / ``mark_public``) asked for by a
      newcomer, setting no cookie: ``public`` with ``s-maxage`` for nginx or a CDN, and
      ``max-age=0`` so that browsers revalidate it (ETag, 304).
    - The same page for a visitor with a session, or anything that sets a cookie: ``private``.
    - Error pages and answers to anything but GET/HEAD: never stored.
    Above SessionMiddleware, to see the cookies it sets; below ConditionalGetMiddleware, so a
    304 carries the same Cache-Control.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        if request.method not in ("GET", "HEAD") or response.status_code >= 400:
            patch_cache_control(response, no_store=True)
        elif getattr(response, "public_page", False):
            if response.cookies or settings.SESSION_COOKIE_NAME in request.COOKIES:
                patch_cache_control(response, private=True, max_age=0)
            else:
                patch_cache_control(
                    response,
                    public=True,
                    max_age=0,
                    s_maxage=settings.PUBLIC_PAGE_MAX_AGE,
                    stale_while_revalidate=settings.PUBLIC_PAGE_STALE,
                )
        return response
