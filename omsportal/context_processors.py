from django.conf import settings

from . import special


def hotline(request):
    return {"hotline": {"display": settings.HOTLINE_DISPLAY, "tel": settings.HOTLINE_TEL}}


def site_url(request):
    return {"site_url": settings.SITE_URL}


def special_stylesheet(request):
    """The stylesheet of the version for visually impaired people, for a visitor who chose it.

    None for everyone else: their pages link no second stylesheet, so the browser paints
    without waiting for one. Pages differ by it, so Django's page cache keys by the choice
    (settings.PUBLIC_PAGE_VARIES_BY) and such pages are private (``CacheHeadersMiddleware``).
    """
    return {"special_stylesheet": special.stylesheet_url(special.current_choice(request))}
