from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from regions.caching import public_page

from . import security, special, views
from .sitemaps import SITEMAPS

admin.site.site_header = "Управление сайтом ОМС"
admin.site.site_title = "Управление сайтом ОМС"
admin.site.index_title = "Содержание сайта"

urlpatterns = [
    path("", views.home, name="home"),
    path("zashchita-prav/", views.rights, name="rights"),
    path("konfidencialnost/", views.privacy, name="privacy"),
    path("special/", special.settings_page, name="special"),
    path("special.css", special.stylesheet, name="special_css"),
    path("", include("regions.urls")),
    path("", include("representatives.urls")),
    path("", include("journey.urls")),
    path("", include("appeals.urls")),
    path("robots.txt", views.robots_txt, name="robots"),
    path(
        "sitemap.xml",
        public_page(sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # The admin's own login view, with failed logins per user name counted across addresses.
    path("admin/login/", security.throttled(admin.site.login)),
    path("admin/", admin.site.urls),
]

handler400 = "omsportal.views.bad_request"
handler403 = "omsportal.views.permission_denied"
handler500 = "omsportal.views.server_error"
