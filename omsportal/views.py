import logging
import sys
import threading
import time
import uuid
from functools import lru_cache
from http import HTTPStatus

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache, caches
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from appeals.views import refused_by_csrf
from company.models import days
from regions import spreadsheets
from regions.caching import CONTENT_CACHE, public_page
from regions.models import Region, RegistryFile

from . import special
from .context_processors import hotline, special_stylesheet
from .postgresql.deadline import watchdog

logger = logging.getLogger(__name__)


@require_safe
@public_page
def home(request):
    return render(request, "pages/home.html")


@require_safe
@public_page
def rights(request):
    region = request.region or None
    files = RegistryFile.objects.cached_for_region(region)
    kinds = RegistryFile.Kind
    registry_files = [f for f in files if f.kind == kinds.MEDICAL_ORGS]
    # Other files are on the files page: this one says what each list is.
    contact_files = [f for f in files if f.kind == kinds.CONTACTS]
    contacts = Region.objects.index()
    return render(
        request,
        "pages/rights.html",
        {
            "programme_files": [f for f in files if f.kind == kinds.BASE_PROGRAMME],
            "registry_files": registry_files,
            "contact_files": contact_files,
            "contacts": contacts,
            "contacts_sizes": spreadsheets.contacts_sizes() if contacts.has_contacts else {},
            "not_published": not_published(
                registries=bool(registry_files),
                funds=contacts.has_contacts or bool(contact_files),
                authorities=bool(contact_files),
            ),
        },
    )


def not_published(*, registries: bool, funds: bool, authorities: bool) -> str:
    """What the rights page's «Куда обратиться» heading names and the site does not have yet,
    in one sentence: the heading promised health authorities, and nothing said they were
    missing."""
    contacts = [
        name
        for name, known in (("ТФОМС", funds), ("органов здравоохранения", authorities))
        if not known
    ]
    parts = ["реестры медицинских организаций"] if not registries else []
    if contacts:
        parts.append("контакты " + " и ".join(contacts))
    if not parts:
        return ""
    sentence = ", ".join(parts) if len(contacts) > 1 else " и ".join(parts)
    return f"{sentence[0].upper()}{sentence[1:]} пока не опубликованы на сайте."


@require_safe
@public_page
def privacy(request):
    """What the site keeps about a visitor, made from the settings that decide it."""
    return render(
        request,
        "pages/privacy.html",
        {
            "session_period": days(settings.SESSION_COOKIE_AGE // 86400),
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "special_period": days(special.COOKIE_MAX_AGE // 86400),
            "special_cookie": special.COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "csrf_period": days(settings.CSRF_COOKIE_AGE // 86400),
            "appeals_period": days(settings.APPEALS_PURGE_AFTER_DAYS),
        },
    )


@require_safe
@public_page
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    # The configured origin, as in the sitemap: this answer is cached for every client.
    sitemap = settings.SITE_URL + reverse("sitemap")
    lines = ["User-agent: *", f"Disallow: {reverse('admin:index')}", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


@require_safe
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@require_safe
def readyz(request):
    """200 when this instance can serve pages: the database answers, its schema has every
    migration this release ships, and the static files' manifest names the stylesheet. The
    body says whether the cache answers too.

    Without Redis an instance still serves every page (django-redis with IGNORE_EXCEPTIONS),
    only from the database. A shared Redis that fails fails for every instance: were that "not
    ready", a balancer would take them all out, and Redis would take the site down. The body
    and a warning line are how an outage shows (django-redis logs nothing per call); what an
    instance cut off alone writes meanwhile reaches the others within SESSION_COPY_TIMEOUT and
    CONTENT_VERSION_TIMEOUT.

    A database that answers is not enough: an instance started before ``migrate`` (or on the
    wrong database), or from an image whose ``collectstatic`` did not run, answered "ok" here
    while every page was the 500 page.
    """
    checks = _readiness()
    ready = all(checks[name] == OK for name in ("database", "schema", "static"))
    body = "".join(f"{name}: {state}\n" for name, state in checks.items())
    status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
    response = HttpResponse(body, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response


OK = "ok"
UNAVAILABLE = "unavailable"
# /readyz answers anyone (nginx passes it, and it is left out of the request log), and on
# PostgreSQL each probe opens a connection of its own, a new server process: a flood of probes
# was a flood of connections. So a process runs one probe at a time; a request that waited for
# it takes its answer, and a database that answered is taken at its word for a second more.
READYZ_REUSE_SECONDS = 1.0
READYZ_KEY = "readyz:answer"
_probing = threading.Lock()


def _readiness() -> dict[str, str]:
    asked = time.monotonic()
    # The content cache is this process's memory: the answer is this instance's.
    kept = caches[CONTENT_CACHE]
    with _probing:
        if stored := kept.get(READYZ_KEY):
            at, checks = stored
            # A failure is asked again at once: the balancer must see the database come back.
            if at >= asked or (checks["database"] == OK and asked - at < READYZ_REUSE_SECONDS):
                return checks
        applied = _applied_migrations()
        checks = {
            "database": UNAVAILABLE if applied is None else OK,
            "schema": UNAVAILABLE if applied is None else _schema_state(applied),
            "static": _static_state(),
            "cache": OK if _cache_answers() else UNAVAILABLE,
        }
        kept.set(READYZ_KEY, (time.monotonic(), checks), timeout=60)
        return checks


@lru_cache(maxsize=1)
def _shipped_migrations() -> frozenset[tuple[str, str]]:
    """The last migration of each app in this release: the schema is current when they are
    applied, since each depends on those before it. Read from disk once per process."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())


def _schema_state(applied: set[tuple[str, str]]) -> str:
    missing = sorted(_shipped_migrations() - applied)
    if not missing:
        return OK
    # Names only: the operator sees which migrate step did not run.
    return "not migrated (" + ", ".join(".".join(name) for name in missing) + ")"


# The stylesheet every page links: with a manifest storage, a release whose collectstatic did
# not run (or a STATIC_ROOT pointing elsewhere) fails every page on it, the error page included.
READYZ_STATIC_FILE = "css/site.css"


def _static_state() -> str:
    try:
        static(READYZ_STATIC_FILE)
    except ValueError:
        logger.warning("Readiness: %s is not in the static files' manifest", READYZ_STATIC_FILE)
        return "missing (run collectstatic)"
    return OK


# A load balancer waits a few seconds for a probe: the answer must come well before that,
# whatever the database does. 2 seconds is libpq's shortest connect timeout.
READYZ_DATABASE_SECONDS = 2
MIGRATIONS_QUERY = "SELECT app, name FROM django_migrations"


def _applied_migrations() -> set[tuple[str, str]] | None:
    """The migrations the database has applied (none before the first ``migrate``), or None
    when it does not answer."""
    if connection.vendor != "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                answered = cursor.fetchone() == (1,)
        except DatabaseError:
            logger.exception("Readiness: the database does not answer")
            return None
        if not answered:
            return None
        try:
            with connection.cursor() as cursor:
                cursor.execute(MIGRATIONS_QUERY)
                return set(cursor.fetchall())
        except DatabaseError:  # no such table: never migrated
            return set()
    # A connection of its own, opened and closed here: the connections kept for pages may be
    # stuck on a hung server, and the probe must neither wait behind them nor leave one behind.
    params = connection.get_connection_params() | {"connect_timeout": READYZ_DATABASE_SECONDS}
    raw = None
    try:
        raw = connection.get_new_connection(params)
        with watchdog.deadline(READYZ_DATABASE_SECONDS, lambda: raw):
            if raw.execute("SELECT 1").fetchone() != (1,):
                return None
            try:
                return set(raw.execute(MIGRATIONS_QUERY).fetchall())
            except connection.Database.errors.UndefinedTable:  # never migrated
                return set()
    except connection.Database.Error as error:
        # A warning: the balancer acts on the 503; no traceback of a known condition. With
        # libpq's reason (server down, wrong password, no such database, too many clients), on
        # one line: an instance taken out gets no page requests, so this line is all there is.
        # libpq names host, port, user and database, never the password.
        reason = " ".join(str(error).split())
        logger.warning(
            "Readiness: the database does not answer: %s: %s", type(error).__name__, reason
        )
        return None
    finally:
        if raw is not None:
            raw.close()


# Each process has its own probe key: instances probed at once never read each other's value.
PROBE_KEY = f"readyz:{uuid.uuid4().hex}"


def _cache_answers() -> bool:
    # One call, so that a Redis that hangs costs the probe one socket timeout (CACHE_TIMEOUT),
    # not three: balancers give a probe a second or two. add() of a new key says True only
    # when the cache stored it (django-redis answers None when Redis is away).
    try:
        stored = cache.add(f"{PROBE_KEY}:{uuid.uuid4().hex}", 1, timeout=5)
    except Exception:  # any backend, any failure: pages come from the database
        logger.warning("Readiness: the cache does not answer", exc_info=True)
        return False
    if not stored:
        logger.warning("Readiness: the cache does not answer")
    return bool(stored)


def bad_request(request, exception):
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE (a pasted book in the appeal form) says so.
    if isinstance(exception, RequestDataTooBig):
        return render(request, "413.html", status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    return render(request, "400.html", status=HTTPStatus.BAD_REQUEST)


def too_many_requests(request, exception=None):
    response = render(request, "429.html", status=HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = "60"
    return response


def permission_denied(request, exception=None):
    # Staff refused an admin page (an editor adding a region, deleting an act) got the citizens'
    # page, with no reason and nobody to ask: in admin, the refusal says who grants rights.
    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_active
        and user.is_staff
        and request.path.startswith(reverse("admin:index"))
    ):
        context = {**admin.site.each_context(request), "title": "Нет прав на это действие"}
        return render(request, "admin/403.html", context, status=HTTPStatus.FORBIDDEN)
    return render(request, "403.html", status=HTTPStatus.FORBIDDEN)


def csrf_failure(request, reason=""):
    # The appeal form is the one public form with a token and much typed into it: it comes
    # back filled in rather than as a page that asks the person to go back and copy their text.
    # Which requests qualify is the appeals app's to say.
    if response := refused_by_csrf(request):
        return response
    return render(request, "403_csrf.html", status=HTTPStatus.FORBIDDEN)


def server_error(request):
    # No request context: whatever broke the page (database, session) must not break this one.
    # The special version's choice comes from a cookie alone, read without either: a visitor
    # who chose it gets this page in it too, as every other page.
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    # Django calls this handler while it handles the exception (got_request_exception's
    # receivers read it the same way). A database this instance cannot reach is an outage, not
    # a fault of the page: 503, which nginx (deploy/nginx.conf, proxy_next_upstream) retries
    # on another instance for a GET, instead of a 500 for every other request that lands here.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        status = HTTPStatus.SERVICE_UNAVAILABLE
    try:
        html = loader.get_template(f"{status.value}.html").render(
            {**hotline(None), **special_stylesheet(request), "posted": request.method == "POST"}
        )
    except Exception:
        # What broke the page may break its layout too (static files not collected, a template
        # missing from the image): gunicorn's own page would say it in English, with no hotline.
        logger.exception("The 500 page could not be rendered; a plain one was sent")
        html = PLAIN_SERVER_ERROR.format(
            display=escape(settings.HOTLINE_DISPLAY), tel=escape(settings.HOTLINE_TEL)
        )
    response = HttpResponse(html, status=status)
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        response["Retry-After"] = "60"  # as nginx's own 503 page
    return response


PLAIN_SERVER_ERROR = (
    '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<title>Ошибка на сайте</title></head><body><h1>На сайте произошла ошибка</h1>"
    "<p>Попробуйте открыть страницу через несколько минут.</p>"
    '<p>Если вопрос срочный, позвоните на единую «горячую линию» <a href="tel:{tel}">{display}</a>.'
    "</p></body></html>"
)
