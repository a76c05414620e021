from django.shortcuts import render
from django.views.decorators.http import require_GET

from omsportal.caching import shared_page
from regions.views import region_from_slug


@require_GET
@shared_page
def region_representatives(request, slug):
    region = region_from_slug(slug)
    return render(request, "representatives/region.html", {"region": region})
