import logging
import time

from django.conf import settings

from .logs import request_id_from, request_id_var

request_logger = logging.getLogger("omsportal.request")

# Probes answer many times a minute; a line each would bury the requests people make.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


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
        if request.path in QUIET_PATHS and status < 500:
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        request_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )


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
