from django.apps import AppConfig


class CompanyConfig(AppConfig):
    name = "company"
    verbose_name = "Сведения о компании"

    def ready(self):
        from regions.caching import watch

        from .models import Company

        # Every page's title and footer show it.
        watch(Company)
