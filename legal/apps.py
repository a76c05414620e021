from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "legal"
    verbose_name = "Законодательство"

    def ready(self):
        from regions.caching import watch

        from .models import LegalAct, LegalProvision

        # Pages cite these rows: an edit in admin shows on every page at once.
        watch(LegalAct, LegalProvision)
