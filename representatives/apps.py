from django.apps import AppConfig


class RepresentativesConfig(AppConfig):
    name = "representatives"
    verbose_name = "Страховые представители"

    def ready(self):
        from regions.caching import watch

        from .models import ReceptionHours, Representative

        # The region pages, the sitemap and the region's cached data show these rows.
        watch(Representative, ReceptionHours)
