from django.conf import settings


def hotline(request):
    return {"hotline": {"display": settings.HOTLINE_DISPLAY, "tel": settings.HOTLINE_TEL}}
