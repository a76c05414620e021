"""The site's middleware: the Host check, the request log, Permissions-Policy, cache headers and
the idle end of staff sessions."""

import logging
import time
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.template import loader
from django.utils.cache import cc_delim_re

from regions.caching import is_newcomer

from .context_processors import hotline
from .logs import log_request, request_id_from, request_id_var

# Django's own logger for this refusal, so that existing log filters keep working.
disallowed_host_logger = logging.getLogger("django.security.DisallowedHost")


# Long enough for any real host name and port.
REFUSED_HOST_SHOWN = 100


def refused_host(request) -> str:
    """The Host as sent, quoted, at most REFUSED_HOST_SHOWN characters, anything unprintable
    escaped (repr): a log line no client can forge or flood."""
    sent = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME", "")
    shown = repr(sent[:REFUSED_HOST_SHOWN])
    return shown + "…" if len(sent) > REFUSED_HOST_SHOWN else shown


class HostMiddleware:
    """Health probes answered whatever the Host; any other unknown Host refused with a 400.

    Right after the request log, before anything that reads the host. Load balancers probe
    instances by address, not by the site's name, so /healthz and /readyz for a host Django
    would refuse are answered here (they carry no page, cookie or session, so they need nothing
    the middleware below adds); for the site's own host they go through the whole stack like
    any page, so /healthz stays the floor the benchmark compares pages with.
    For every other request the Host is checked once, here: left to Django, a Host missing
    from ALLOWED_HOSTS surfaces as an ERROR with a traceback on every scanner's request, and
    its 400 page could not be rendered with a request whose host cannot be read.
    """

    def __init__(self, get_response):
        from . import views  # views import models: not at module level, before apps load

        self.get_response = get_response
        self.probes = {"/healthz": views.healthz, "/readyz": views.readyz}

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            probe = self.probes.get(request.path_info)
            if probe is not None:
                return probe(request)
            # A warning without a traceback. It names the host: with ALLOWED_HOSTS wrong every
            # page is this 400 while the probes say 200, and the name is what to add. The
            # value is the client's, so it is cut short and its control characters escaped.
            disallowed_host_logger.warning(
                "Refused a request for a host not in ALLOWED_HOSTS: %s", refused_host(request)
            )
            return self.bad_host_response()
        return self.get_response(request)

    @staticmethod
    def bad_host_response() -> HttpResponse:
        # Rendered without the request, as the 500 page is: nothing in it may ask for the host.
        html = loader.get_template("400.html").render(hotline(None))
        return HttpResponse(html, status=HTTPStatus.BAD_REQUEST)


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
    - The same page for a visitor with a session or with a choice of the version for visually
      impaired people (the page then links its stylesheet), or anything that sets a cookie:
      ``private``.
    - Error pages and answers to anything but GET/HEAD: never stored.
    - A response whose view set Cache-Control itself (robots.txt, static files, downloads'
      own rules) keeps it.
    Above SessionMiddleware, to see the cookies it sets; below ConditionalGetMiddleware, so a
    304 carries the same Cache-Control.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.has_header("Cache-Control"):
            return response
        # The whole header, written as patch_cache_control() would: with no Cache-Control to
        # merge into (see above) its parsing and merging only cost time on every page.
        if request.method not in ("GET", "HEAD") or response.status_code >= 400:
            response["Cache-Control"] = "no-store"
        elif getattr(response, "public_page", False):
            if response.cookies or not is_newcomer(request):
                response["Cache-Control"] = "private, max-age=0"
            else:
                response["Cache-Control"] = (
                    f"public, max-age=0, s-maxage={settings.PUBLIC_PAGE_MAX_AGE}, "
                    f"stale-while-revalidate={settings.PUBLIC_PAGE_STALE}"
                )
                self.drop_vary_cookie(response)
        return response

    @staticmethod
    def drop_vary_cookie(response) -> None:
        """A newcomer's page is the same whatever other cookies they carry (a form's csrftoken,
        a special version's cookie that is not ours), and a cache must bypass it for the session
        and special cookies anyway (README, «Caching»). SessionMiddleware's
        ``Vary: Cookie`` made a cache that honours Vary (a CDN; nginx before it ignored Vary)
        keep a copy per Cookie header: none shared with a visitor who had once opened the
        appeal form, and a new entry for every made-up cookie."""
        kept = [
            name
            for name in cc_delim_re.split(response.get("Vary", ""))
            if name and name.lower() != "cookie"
        ]
        if kept:
            response["Vary"] = ", ".join(kept)
        else:
            del response["Vary"]


class StaffSessionMiddleware:
    """A logged-in staff member's session ends after settings.ADMIN_SESSION_IDLE without use.

    Visitors' sessions (their region) last SESSION_COOKIE_AGE, a year; a staff session left
    open on a shared computer must not. Each admin page pushes the end back, at most once every
    few minutes so that browsing the admin does not write the session on every click.
    """

    refresh_after = 300  # seconds

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if request.path_info.startswith("/admin/") and user and user.is_authenticated:
            self.extend(request.session)
        return response

    def extend(self, session) -> None:
        now = int(time.time())
        if now - session.get("_staff_seen", 0) >= self.refresh_after:
            session["_staff_seen"] = now
            session.set_expiry(settings.ADMIN_SESSION_IDLE)
