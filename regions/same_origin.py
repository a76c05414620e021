"""The same-origin check for the only forms that carry no CSRF token.

Choosing a region and the display settings of the version for visually impaired people change
only how the site looks to this visitor. Their forms are on public pages, which must be the same
bytes for every newcomer so that a shared cache can keep them: a per-visitor token would make
every page personal. The worst a forged POST could do here is change which region a visitor
sees, so instead of a token the view asks the browser where the form came from, as Django's
"modern CSRF protection" proposal (django/new-features#98) describes:

1. ``Sec-Fetch-Site`` (every current browser sends it): only ``same-origin`` or ``none`` (typed
   or bookmarked) pass;
2. else ``Origin``; 3. else the origin of ``Referer``: either must be this site's own.

A request with none of them is refused too: no browser that could be tricked into a cross-site
POST sends none. Every other form keeps Django's CSRF token.
"""

from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .origins import origin_of

TRUSTED_FETCH_SITES = {"same-origin", "none"}


def own_origins(request) -> set[str]:
    # get_host() has already been checked against ALLOWED_HOSTS.
    origins = {f"{request.scheme}://{request.get_host()}".lower()}
    origins.update(origin.lower() for origin in settings.CSRF_TRUSTED_ORIGINS)
    if settings.SITE_URL:
        origins.add(origin_of(settings.SITE_URL))
    return origins


def is_same_origin(request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.lower() in TRUSTED_FETCH_SITES
    origin = request.headers.get("Origin")
    if origin is None:
        origin = origin_of(request.headers.get("Referer", ""))
    return bool(origin) and origin.lower() in own_origins(request)


def same_origin_only(view):
    """For a POST that only changes how the site looks to this visitor (see the module)."""

    @csrf_exempt
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and not is_same_origin(request):
            # A browser that says nothing of where the form was (no Referer: a privacy setting
            # or an extension) is told that, not that another site sent it.
            untold = not any(map(request.headers.get, ("Sec-Fetch-Site", "Origin", "Referer")))
            return render(
                request,
                "403_cross_site.html",
                {"untold": untold},
                status=HTTPStatus.FORBIDDEN,
            )
        return view(request, *args, **kwargs)

    return wrapped
