from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import sitemaps
from django.db.models import Max
from django.urls import reverse

from journey.views import all_pairs
from regions.models import Region
from representatives.models import Representative


class Sitemap(sitemaps.Sitemap):
    """Addresses on the site's configured origin (SITE_URL), never the request's Host: the
    sitemap is cached whole, by nginx too, and must not carry whatever host a client sent."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class PageSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return ["home", "rights", "journey:form", "regions:list", "regions:files", "privacy"]

    def location(self, item):
        return reverse(item)


class RegionSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Region.objects.index().regions

    def lastmod(self, region):
        return region.updated_at


class RepresentativesSitemap(RegionSitemap):
    def items(self):
        # One query for when each region's contacts last changed (a deletion is not seen).
        self.contacts_changed = dict(
            Representative.objects.values_list("region").annotate(Max("updated_at"))
        )
        return super().items()

    def location(self, region):
        return region.get_representatives_url()

    def lastmod(self, region):
        changed = self.contacts_changed.get(region.pk)
        return max(region.updated_at, changed) if changed else region.updated_at


class JourneySitemap(Sitemap):
    """An answer page for each of the company's regions with each federal subject (23 × 89)."""

    changefreq = "monthly"

    def items(self):
        return all_pairs()

    def location(self, pair):
        return reverse("journey:answer", args=pair)


SITEMAPS = {
    "pages": PageSitemap,
    "regions": RegionSitemap,
    "representatives": RepresentativesSitemap,
    "journey": JourneySitemap,
}
