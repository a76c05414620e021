from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .caching import content_scope
from .models import Region

SESSION_KEY = "region"


class RegionMiddleware:
    """Puts the visitor's region on the request.

    ``request.region`` is the region kept in the session, else the one a trusted proxy header
    names, else the default region. ``request.region_confirmed`` is true once the visitor has
    answered the prompt. Both are lazy: a page that never looks at them reads no session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        resolved = SimpleLazyObject(lambda: self.resolve(request))
        request.region = SimpleLazyObject(lambda: resolved[0])
        request.region_confirmed = SimpleLazyObject(lambda: resolved[1])
        # The content version is read at most once for all the request's cached data.
        with content_scope():
            return self.get_response(request)

    @staticmethod
    def resolve(request) -> tuple[Region | None, bool]:
        index = Region.objects.index()
        chosen = index.by_code.get(request.session.get(SESSION_KEY, ""))
        if chosen is not None:
            return chosen, True
        if settings.REGION_HEADER:
            suggested = index.by_iso.get(request.META.get(settings.REGION_HEADER, "").upper())
            if suggested is not None:
                return suggested, False
        return index.default, False


def remember_region(request, region: Region) -> None:
    request.session[SESSION_KEY] = region.code
