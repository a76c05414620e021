from django.conf import settings


def hotline(request):
    return {"hotline": {"display": settings.HOTLINE_DISPLAY, "tel": settings.HOTLINE_TEL}}


def site_url(request):
    return {"site_url": settings.SITE_URL}
