"""System checks of the deployment that settings.py cannot refuse at start-up on its own."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.http.request import validate_host


@checks.register(checks.Tags.security, deploy=True)
def site_url(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """SITE_URL makes every link the site prints outside a page's own address: the appeal's
    status link in the confirmation mail, the footer, robots.txt's sitemap. Its default is a
    guess from ALLOWED_HOSTS (https, no port), wrong for any site not served that way."""
    if settings.DEBUG:
        return []
    problems = []
    if not settings.SITE_URL_SET:
        problems.append(
            checks.Warning(
                f"SITE_URL is not set: mails and pages link to {settings.SITE_URL}, a guess "
                "from ALLOWED_HOSTS.",
                hint="Set SITE_URL to the address visitors open, e.g. https://oms.example.ru.",
                id="omsportal.W001",
            )
        )
    host = urlsplit(settings.SITE_URL).hostname or ""
    if not validate_host(host, settings.ALLOWED_HOSTS):
        problems.append(
            checks.Warning(
                f"SITE_URL's host {host} is not in ALLOWED_HOSTS: every link the site prints "
                "would get the 400 page.",
                hint=f"Add {host} to ALLOWED_HOSTS, or correct SITE_URL.",
                id="omsportal.W002",
            )
        )
    return problems
