from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .caching import cached_content, content_scope
from .models import Region, Subject

SESSION_KEY = "region"


def known_iso_codes() -> frozenset[str]:
    """The ISO codes a page may differ by: the company's regions (the prompt) and the federal
    subjects (the journey's place). Kept per content version."""
    return cached_content(
        "known-iso-codes",
        build=lambda: (
            frozenset(Region.objects.index().by_iso) | frozenset(Subject.objects.index().by_iso)
        ),
    )


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
    def inputs(request) -> tuple[str, str]:
        """What the region is resolved from: the code kept in the session, and the ISO code the
        trusted proxy header suggests (empty unless REGION_HEADER is configured)."""
        chosen = request.session.get(SESSION_KEY, "")
        suggested = ""
        if settings.REGION_HEADER:
            suggested = request.META.get(settings.REGION_HEADER, "").upper()
            # Pages are cached per value: one that names no known place is no value at all,
            # or made-up codes would each get pages of their own (a cache filled at will).
            if suggested and suggested not in known_iso_codes():
                suggested = ""
        return chosen, suggested

    @classmethod
    def resolve(cls, request) -> tuple[Region | None, bool]:
        chosen, suggested = cls.inputs(request)
        index = Region.objects.index()
        if chosen in index.by_code:
            return index.by_code[chosen], True
        if suggested in index.by_iso:
            return index.by_iso[suggested], False
        return index.default, False


def remember_region(request, region: Region) -> None:
    request.session[SESSION_KEY] = region.code
