from http import HTTPStatus

from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from regions.models import Region, RegistryFile

from . import legal
from .caching import regional_page, shared_page
from .context_processors import hotline


@require_GET
@regional_page
def home(request):
    return render(request, "pages/home.html")


@require_GET
@regional_page
def rights(request):
    region = request.region or None
    files = RegistryFile.objects.cached_for_region(region)
    kinds = RegistryFile.Kind
    return render(
        request,
        "pages/rights.html",
        {
            "programme_files": [f for f in files if f.kind == kinds.BASE_PROGRAMME],
            "registry_files": [f for f in files if f.kind != kinds.BASE_PROGRAMME],
            "law": legal.LAW_326,
            "rules": legal.OMS_RULES,
            "current_on": legal.CURRENT_ON,
            "contacts_known": Region.objects.index().has_contacts,
        },
    )


@require_GET
@shared_page
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", f"Disallow: {reverse('admin:index')}", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_GET
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=HTTPStatus.FORBIDDEN)


def server_error(request):
    # No request context: whatever broke the page (database, session) must not break this one.
    html = loader.get_template("500.html").render(hotline(None))
    return HttpResponseServerError(html)
