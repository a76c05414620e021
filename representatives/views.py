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
    levels = {level: [] for level in Level}
    for representative in Representative.objects.for_region(region):
        levels[representative.level].append(representative)
    # The federal hotline is always on the page, as a card of its own unless a level-1 contact
    # (as in the shipped fixtures) already lists it.
    hotline_listed = any(
        tel == settings.HOTLINE_TEL
        for representative in levels[Level.CONTACT_CENTRE]
        for _, tel in representative.phone_links
    )
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
