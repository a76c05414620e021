from django.apps import AppConfig


class OmsportalConfig(AppConfig):
    """The project package as an app only for its system checks; it has no models."""

    name = "omsportal"
    verbose_name = "Портал ОМС"

    def ready(self):
        from . import checks  # noqa: F401
