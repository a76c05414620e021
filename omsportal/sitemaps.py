from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from regions.models import Region


class PageSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return ["home", "rights", "regions:list", "regions:files"]

    def location(self, item):
        return reverse(item)


class RegionSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Region.objects.index().regions

    def lastmod(self, region):
        return region.updated_at


class RepresentativesSitemap(RegionSitemap):
    def location(self, region):
        return region.get_representatives_url()


SITEMAPS = {
    "pages": PageSitemap,
    "regions": RegionSitemap,
    "representatives": RepresentativesSitemap,
}
