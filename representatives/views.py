from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

from regions.caching import public_page
from regions.views import region_from_slug

from .models import Level, Representative


@require_safe
@public_page
def region_representatives(request, slug):
    region = region_from_slug(slug)
    levels = Representative.objects.by_level(region)
    # The federal hotline is always on the page, as a card of its own unless a level-1 contact
    # (as in the shipped fixtures) already lists it.
    hotline_listed = any(r.lists_phone(settings.HOTLINE_TEL) for r in levels[Level.CONTACT_CENTRE])
    return render(
        request,
        "representatives/region.html",
        {
            "region": region,
            "level1": levels[Level.CONTACT_CENTRE],
            "level2": levels[Level.ACCOMPANIMENT],
            "level3": levels[Level.EXPERT],
            "hotline_listed": hotline_listed,
            "utc_offset": region.utc_offset_label,
        },
    )
