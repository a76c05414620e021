from django.shortcuts import render
from django.views.decorators.http import require_GET

from regions.views import region_from_slug


@require_GET
def region_representatives(request, slug):
    region = region_from_slug(slug)
    return render(request, "representatives/region.html", {"region": region})
