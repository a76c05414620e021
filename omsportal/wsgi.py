import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omsportal.settings")

django_application = get_wsgi_application()

from omsportal.caching import FrontCache  # noqa: E402 - needs the settings configured above

# Pages that are the same for every visitor are answered from the cache before Django runs.
application = FrontCache(django_application)
