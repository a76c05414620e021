from django.shortcuts import render
from django.views.decorators.http import require_safe

from regions.caching import public_page
from regions.models import Region
from regions.views import region_from_slug, unknown_region

from .models import Level, Representative, hotline_listed


@require_safe
@public_page
def region_representatives(request, slug):
    region = region_from_slug(slug)
    if region is None:
        return unknown_region(request, slug, Region.get_representatives_url)
    levels = Representative.objects.by_level(region)
    return render(
        request,
        "representatives/region.html",
        {
            "region": region,
            "level1": levels[Level.CONTACT_CENTRE],
            "level2": levels[Level.ACCOMPANIMENT],
            "level3": levels[Level.EXPERT],
            "hotline_listed": hotline_listed(levels),
            "zone": region.zone_label,
        },
    )
