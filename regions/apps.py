from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "Регионы и файлы"

    def ready(self):
        from . import signals  # noqa: F401
