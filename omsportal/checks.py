"""System checks of the deployment that settings.py cannot refuse at start-up on its own."""

from email.utils import parseaddr
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


@checks.register(checks.Tags.security, deploy=True)
def sender_address(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Mails went out from Django's default, webmaster@localhost, whenever EMAIL_URL was set
    without DEFAULT_FROM_EMAIL: a sender no one can answer, which receiving servers mark as spam
    or refuse (SPF, DMARC), so citizens missed their status links."""
    if settings.DEBUG or not settings.EMAIL_URL:
        return []
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    if "." in domain.strip("."):
        return []
    return [
        checks.Warning(
            f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}: the appeals' mails go out "
            "from an address of no real domain.",
            hint="Set DEFAULT_FROM_EMAIL to the company's address the SMTP server of EMAIL_URL "
            "may send from, e.g. «ОМС <noreply@oms.example.ru>».",
            id="omsportal.W003",
        )
    ]


@checks.register(checks.Tags.database, deploy=True)
def shared_database(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """DATABASE_URL's default is the embedded SQLite file, for `make run` and the tests. A
    production instance left on it passed `check --deploy`, and each instance then kept its own
    appeals, sessions and content edits: the next request on another instance knew none."""
    database = settings.DATABASES["default"]
    if settings.DEBUG or "sqlite" not in database["ENGINE"]:
        return []
    return [
        checks.Warning(
            f"The database is SQLite ({database['NAME']}), a file on this machine: with more "
            "than one instance each keeps its own appeals, sessions and edits, and SQLite lets "
            "one process write at a time.",
            hint="Set DATABASE_URL to the PostgreSQL every instance shares, e.g. "
            "postgres://user:password@host:5432/omsportal.",
            id="omsportal.W004",
        )
    ]


@checks.register(checks.Tags.caches, deploy=True)
def shared_cache(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """CACHE_URL's default is a cache in each process's memory. The rate limits count there:
    with several instances, or gunicorn's several workers, a client got the limit once per
    process; a session change made on one instance was read from the database elsewhere."""
    if settings.DEBUG or settings.SHARED_CACHE:
        return []
    return [
        checks.Warning(
            "The cache is each process's own memory (CACHE_URL unset): with more than one "
            "instance or worker the rate limits (appeals, region choice, admin logins) count "
            "per process, so a client gets the limit once per process.",
            hint="Set CACHE_URL to the Redis every instance shares, e.g. redis://host:6379/0.",
            id="omsportal.W005",
        )
    ]
