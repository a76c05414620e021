"""The site's middleware: the request log, Permissions-Policy, and lighter versions of two
library middlewares, for the work every request pays for.

Profiling a cached page (docs/performance.md) showed django-csp rebuilding the same policy
string twice per response (a fifth of the request), and the messages framework building its
cookie signer and session storage for pages that never show a message.
"""

import time

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

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


# Set by django-csp's view decorators; any of them means the policy of this response differs.
CSP_OVERRIDES = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)

_policies: list[tuple[str, str, tuple[str, ...]]] | None = None


@receiver(setting_changed)
def _forget_policies(*, setting, **kwargs):
    global _policies
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies = None


def _default_policies() -> list[tuple[str, str, tuple[str, ...]]]:
    global _policies
    if _policies is None:
        policies = []
        for header, name, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            policy = build_policy(report_only=report_only)
            if policy:
                config = getattr(settings, name, None) or {}
                prefixes = tuple(config.get("EXCLUDE_URL_PREFIXES", None) or ())
                policies.append((header, policy, prefixes))
        _policies = policies
    return _policies


class CSPMiddleware(LibraryCSPMiddleware):
    """django-csp's middleware with the settings' policy built once per process.

    A response with a nonce or a per-view policy goes through the library's own code.
    """

    def process_response(self, request, response):
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in CSP_OVERRIDES)
        ):
            return super().process_response(request, response)
        for header, policy, prefixes in _default_policies():
            if header not in response and not request.path_info.startswith(prefixes):
                response[header] = policy
        # As the library does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class LazyMessageMiddleware(MessageMiddleware):
    """Django's MessageMiddleware, with the storage made only when a message is added or read."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
