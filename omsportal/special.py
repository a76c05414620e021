"""The version for visually impaired people (ГОСТ Р 52872-2019): large type, high contrast,
wider spacing, images off.

The visitor's choice is a plain cookie that only ``/special.css`` reads: page HTML never depends
on it, so region pages stay cacheable (no ``Vary: Cookie``). Every page links that stylesheet;
it is private, revalidated on each page view and empty in the normal version.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_http_methods, require_safe
from django.views.decorators.vary import vary_on_cookie

from regions.views import safe_next

COOKIE_NAME = "special"
COOKIE_MAX_AGE = 365 * 24 * 60 * 60


def special_enabled(request) -> bool:
    return request.COOKIES.get(COOKIE_NAME) == "on"


@require_http_methods(["GET", "POST"])
def settings_page(request):
    if request.method == "GET":
        return render(
            request,
            "pages/special.html",
            {"enabled": special_enabled(request), "next": safe_next(request)},
        )
    response = redirect(safe_next(request))
    if request.POST.get("mode") == "on":
        response.set_cookie(
            COOKIE_NAME,
            "on",
            max_age=COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(COOKIE_NAME, samesite="Lax")
    return response


def _stylesheet(request) -> str:
    if special_enabled(request):
        # The rules themselves are a hashed static file that browsers cache for long.
        return f'@import url("{static("css/special.css")}");\n'
    return "/* Обычная версия сайта */\n"


def _stylesheet_etag(request) -> str:
    return hashlib.md5(_stylesheet(request).encode(), usedforsecurity=False).hexdigest()


@require_safe
@vary_on_cookie
@cache_control(private=True, no_cache=True)
@condition(etag_func=_stylesheet_etag)
def stylesheet(request):
    return HttpResponse(_stylesheet(request), content_type="text/css; charset=utf-8")
