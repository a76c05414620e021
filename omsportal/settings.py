"""Settings for omsportal, read from the environment only (django-environ).

Nothing insecure has a default: with DEBUG off a missing SECRET_KEY or ALLOWED_HOSTS stops the
process at start-up. The README's run command and the test settings set development values.
"""

import ipaddress
import logging
import math
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from .rediscache import is_redis, redis_cache
from .release import source_digest

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list with each item stripped: "a, b" is the hosts "a" and "b", where
    django-environ's list kept " b", which never matched."""
    if name not in os.environ:
        return default
    return [item.strip() for item in os.environ[name].split(",") if item.strip()]


def env_meta_key(name: str, default: str, *, example: tuple[str, str], also=()) -> str:
    """A request header named as request.META names it. Named as sent ("X-Real-IP"), it is
    never found there: the client's address would always be nginx's, the geo header ignored."""
    value = env.str(name, default=default)
    if value and value not in also and not value.startswith("HTTP_"):
        meta, sent = example
        raise ImproperlyConfigured(
            f"{name} names the header as Django's request.META does: {meta} for {sent}."
        )
    return value


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate ("10/m", "5/15m"): refused at start-up, not at the first form
    sent (django-ratelimit raises on every request with a rate it cannot read)."""
    value = env.str(name, default=default).strip()
    # django-ratelimit's own form: "100/60" is seconds, "5/15m" fifteen minutes; "10/0m" divided
    # by zero on every request.
    if not re.fullmatch(r"\d+/(?:[1-9]\d*)?[smhdSMHD]?", value) or value.endswith("/"):
        raise ImproperlyConfigured(f"{name} is a rate such as 10/m or 5/d, not {value!r}.")
    # Its units in lower case only: it takes "10/M" for 10 a second.
    return value.lower()


def env_number(name: str, default, *, kind=int, unit: str = ""):
    """A number from the environment. django-environ's env.int("CONN_MAX_AGE") ended the start
    with a bare «ValueError: invalid literal for int() with base 10: 'abc'», naming no variable
    among the forty the settings read."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        number = None
    # float() also reads «nan» and «inf»: no timeout or period means that.
    if number is None or not math.isfinite(number):
        what = "a whole number" if kind is int else "a number"
        unit = f" of {unit}" if unit else ""
        raise ImproperlyConfigured(
            f"{name} is {what}{unit} such as {default}, not {value!r}."
        ) from None
    return number


def env_int(name: str, default: int, *, unit: str = "") -> int:
    return env_number(name, default, kind=int, unit=unit)


def env_float(name: str, default: float, *, unit: str = "") -> float:
    return env_number(name, default, kind=float, unit=unit)


def env_site_url(name: str, default: str) -> str:
    """The site's own address, scheme and host (and port) only: links in mails, robots.txt and
    on pages are made from it, so «oms.example.ru» or a path would print broken links."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises for a port that is no number)
    except ValueError:
        parts = parts._replace(scheme="")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ImproperlyConfigured(
            f"{name} is the site's address as visitors open it, scheme and host only, such as "
            f"https://oms.example.ru or http://localhost:8000; not {value!r}."
        )
    return value.rstrip("/")


def env_url(name: str, default: str, *, schemes: dict, example: str) -> str:
    """A service's URL, its scheme one django-environ knows. Left to django-environ, an empty
    DATABASE_URL was «KeyError: 'ENGINE'» and an empty CACHE_URL «Invalid cache schema »,
    neither naming the variable. The message never repeats the URL: it may hold a password."""
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} is set but empty: give a URL such as {example}, or unset it for the "
            f"default {default}."
        )
    scheme = urlsplit(value).scheme if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} is not a URL this site reads: it must start with one of "
            f"{', '.join(sorted(s + '://' for s in schemes))}, e.g. {example}."
        )
    return value


DEBUG = env.bool("DEBUG", default=False)

# Keys as they are, not through django-environ: it reads a value starting with «$» as the name of
# another variable, and keys Django makes (get_random_secret_key) may start with one.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for local development)."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG"  # noqa: S105
# Old keys still verify sessions and signatures while a new SECRET_KEY rolls out.
SECRET_KEY_FALLBACKS = [
    key.strip() for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()
]

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set (a comma-separated list of host names).")
for _host in ALLOWED_HOSTS:
    # A URL never matches a Host header: every page was the 400, and check --deploy's hint
    # (omsportal.W002) told the operator to add «https» to the list.
    if "/" in _host:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS holds host names such as oms.example.ru or .example.ru, without a "
            f"scheme or a path; not {_host!r} (the site's address goes in SITE_URL)."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
# The site's own address, as printed on pages («Страница сайта: …»), in mails and robots.txt.
# Never taken from the request: a page is the same whatever Host or port a client sends. The
# default is a guess, so `check --deploy` warns until it is set (omsportal/checks.py).
SITE_URL_SET = bool(os.environ.get("SITE_URL", "").strip())
SITE_URL = env_site_url(
    "SITE_URL",
    default="http://127.0.0.1:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0].lstrip('.')}",
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so runserver serves static files the way production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "csp",
    "axes",
    "simple_history",
    "regions",
    "representatives",
    "journey",
    "appeals",
    "legal",
    "company",
    # The project's own system checks (omsportal/checks.py).
    "omsportal.apps.OmsportalConfig",
    # Last, as its documentation asks: it watches every model's file fields.
    "django_cleanup.apps.CleanupConfig",
]

MIDDLEWARE = [
    # First: times every request and gives it the id its log lines and response carry.
    "omsportal.middleware.RequestLogMiddleware",
    # Before anything that reads the host name: answers the health probes whatever the Host,
    # and refuses any other request for a host not in ALLOWED_HOSTS with a Russian 400 and a
    # warning (no traceback).
    "omsportal.middleware.HostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "omsportal.middleware.PermissionsPolicyMiddleware",
    # Static files are answered before sessions, CSRF or the region are looked at.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that adds headers or cookies, so a 304 keeps them (Vary, Set-Cookie);
    # makes the ETag from the body and answers If-None-Match with 304.
    "django.middleware.http.ConditionalGetMiddleware",
    # Cache-Control from the view's mark and the cookies set below it (SessionMiddleware).
    "omsportal.middleware.CacheHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: staff sessions end after ADMIN_SESSION_IDLE_HOURS without use.
    "omsportal.middleware.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After sessions: the visitor's region lives in the session (read lazily).
    "regions.middleware.RegionMiddleware",
    # Turns django-ratelimit's refusal into the Russian 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "omsportal.urls"
WSGI_APPLICATION = "omsportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "omsportal.context_processors.hotline",
                "omsportal.context_processors.site_url",
                "omsportal.context_processors.special_stylesheet",
                "company.context_processors.company",
            ],
            # base.html sets the text of every page with it (omsportal/typography.py).
            "libraries": {"typography": "omsportal.typography"},
        },
    },
]

DATABASES = {
    "default": env.db_url_config(
        env_url(
            "DATABASE_URL",
            f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
            schemes=env.DB_SCHEMES,
            example="postgres://user:password@host:5432/omsportal",
        )
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reuse connections between requests; the health check drops ones the server closed.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", 60, unit="seconds"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database that hangs must cost a request seconds, never a thread for good: libpq gives
    # up connecting after DATABASE_CONNECT_TIMEOUT, the server cancels a statement after
    # DATABASE_STATEMENT_TIMEOUT (0: never, e.g. for a long migration), keepalives and
    # tcp_user_timeout notice a peer that vanished from the network, and the backend cuts any
    # wait for an answer after DATABASE_CLIENT_TIMEOUT (a server that accepts but never
    # answers: omsportal/postgresql/deadline.py).
    DATABASES["default"]["ENGINE"] = "omsportal.postgresql"
    statement_timeout = env_float("DATABASE_STATEMENT_TIMEOUT", 10.0, unit="seconds")
    DATABASES["default"]["CLIENT_TIMEOUT"] = env_float(
        "DATABASE_CLIENT_TIMEOUT", statement_timeout + 5 if statement_timeout else 0, unit="seconds"
    )
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # libpq's minimum is 2 seconds.
            "connect_timeout": max(2, env_int("DATABASE_CONNECT_TIMEOUT", 3, unit="seconds")),
            "options": f"-c statement_timeout={int(statement_timeout * 1000)}",
            "keepalives": 1,
            "keepalives_idle": env_int("DATABASE_KEEPALIVES_IDLE", 30, unit="seconds"),
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": env_int("DATABASE_TCP_USER_TIMEOUT", 30, unit="seconds") * 1000,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url_config(
        env_url(
            "CACHE_URL",
            "locmemcache://omsportal",
            schemes=env.CACHE_SCHEMES,
            example="redis://127.0.0.1:6379/1",
        )
    )
}
# A local-memory cache is one per process: nothing a visitor's next request may meet on another
# process (a session) can live there.
SHARED_CACHE = CACHES["default"]["BACKEND"] not in {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
if is_redis(CACHES["default"]["LOCATION"]):
    # Everything in the cache can be rebuilt from the database (regions/caching.py keeps the
    # content version there, and only a short-lived copy in the cache), so an unreachable or
    # hung Redis must cost speed, never a page (omsportal/rediscache.py).
    # Over what django-environ read from the URL: its TIMEOUT, VERSION, KEY_FUNCTION stay.
    CACHES["default"] |= redis_cache(
        CACHES["default"]["LOCATION"],
        options=CACHES["default"].get("OPTIONS", {}),
        connect_timeout=env_float("CACHE_CONNECT_TIMEOUT", 0.3, unit="seconds"),
        timeout=env_float("CACHE_TIMEOUT", 0.5, unit="seconds"),
    )
# After Redis fails to answer, how long each process serves pages without it.
CACHE_FAILURE_PAUSE = env_float("CACHE_FAILURE_PAUSE", 5.0, unit="seconds")
# What the default cache (Redis) holds must outlive a deploy and be shared by old and new
# instances while a rolling deploy runs: sessions (a logout on an old instance ends the session
# on new ones too), rate limits, the content version's copy. Nothing in it is built by the
# release's code; pages are (the content cache below, keyed by the release).
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="omsportal")
RELEASE = env.str("RELEASE", default="") or source_digest(BASE_DIR)
# How long anything cached from the content lives, even if an invalidation were lost.
CONTENT_TIMEOUT = env_int("CONTENT_TIMEOUT", 300, unit="seconds")
# With a shared cache, how long its copy of the content version may be trusted: the longest a
# change stays unseen if Redis missed the writer's update, or got two writers' out of order
# (regions/caching.py).
CONTENT_VERSION_TIMEOUT = env_int("CONTENT_VERSION_TIMEOUT", 5, unit="seconds")
# How long nginx or a CDN may keep a newcomer's page, and serve it stale while refreshing it.
PUBLIC_PAGE_MAX_AGE = env_int("PUBLIC_PAGE_MAX_AGE", 60, unit="seconds")
PUBLIC_PAGE_STALE = env_int("PUBLIC_PAGE_STALE", 300, unit="seconds")
# What else of the request public pages show, besides the path and the visitor's region: Django's
# page cache keeps a copy per value (regions/caching.py). The version for visually impaired
# people links its stylesheet in every page of a visitor who chose it.
PUBLIC_PAGE_VARIES_BY = ["omsportal.special.page_variant"]

# What public pages are built from, and whole pages: in each process's memory, used only under
# the shared content version they were built with (regions/caching.py). A page is at most 30 KB
# (tests/test_pages.py), so this is at most ~30 MB per worker; the least recently used go first.
CACHES["content"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "omsportal-content",
    "OPTIONS": {"MAX_ENTRIES": 1000},
    # Built by this release's templates, linking its hashed static files: never read by another
    # release, should this cache ever be shared.
    "KEY_PREFIX": RELEASE,
}
# Sessions (the chosen region) must be the same for every process of every instance: in the
# database, read through the cache only when the cache is shared (CACHE_URL, Redis): Django's
# cached_db, with the content version read in the same round trip. Anonymous visitors who never
# answer the prompt get none.
SESSION_ENGINE = "regions.sessions" if SHARED_CACHE else "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
# How long the shared cache's copy of a session lives: the longest a change or a logout made by
# an instance that could not reach Redis stays unseen by the others (regions/sessions.py). Also
# how long it remembers that the database has no session under a key a client sent (a made-up
# cookie costs no query meanwhile): a copy of the database's answer too, as long as it may lag.
SESSION_COPY_TIMEOUT = env_int("SESSION_COPY_TIMEOUT", 300, unit="seconds")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
# Ahead of Django's own catalogues: admin's save and delete messages reworded (see the .po).
LOCALE_PATHS = [BASE_DIR / "omsportal" / "locale"]
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# favicon.ico is answered from the site root by whitenoise (robots.txt is a view: it names
# SITE_URL's sitemap).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    # Django's file system storage that leaves no truncated file when a save fails part-way.
    "default": {"BACKEND": "omsportal.storage.MediaStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# Production sits behind a TLS-terminating proxy that says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 63072000, unit="seconds")
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "omsportal.views.csrf_failure"
# HSTS preloading commits every subdomain of the company's domain to HTTPS in browsers for
# months, beyond what this site controls: the domain's owner turns it on with
# SECURE_HSTS_PRELOAD=1 when they submit the domain, so check --deploy need not insist on it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Browser features the site never uses, switched off for it and anything it might embed.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}

# Admin login: after AXES_FAILURE_LIMIT wrong passwords for one user name from one address,
# that pair is refused for an hour (or until `manage.py axes_reset`). The count lives in the
# database, so it holds across all instances. Locking by name and address together means a
# stranger cannot lock staff out from elsewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_float("AXES_COOLOFF_HOURS", 1.0, unit="hours")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_CLIENT_IP_CALLABLE = "omsportal.security.client_ip"
AXES_CLIENT_STR_CALLABLE = "omsportal.security.axes_client_str"
AXES_VERBOSE = False
# Each staff login's address and browser (axes_accesslog) is kept this many days, then deleted
# by scripts/clear-sessions (purge_admin_logins); django-axes itself keeps them for ever.
ADMIN_ACCESS_LOG_DAYS = env_int("ADMIN_ACCESS_LOG_DAYS", 90, unit="days")
if ADMIN_ACCESS_LOG_DAYS < 1:
    # 0 would delete the log of a login made a minute ago, a negative number all of it.
    raise ImproperlyConfigured(
        f"ADMIN_ACCESS_LOG_DAYS is a number of days from 1, not {ADMIN_ACCESS_LOG_DAYS}."
    )
# The visitor's address (omsportal/security.py): CLIENT_IP_HEADER, which nginx sets from its
# own view of the peer (deploy/nginx.conf), is believed only from the addresses or networks in
# TRUSTED_PROXIES (our nginx); from anywhere else, and with TRUSTED_PROXIES empty, REMOTE_ADDR.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            "TRUSTED_PROXIES holds addresses or networks (10.0.0.5, 172.28.0.0/24), "
            f"not {_proxy!r}."
        ) from None
CLIENT_IP_HEADER = env_meta_key(
    "CLIENT_IP_HEADER",
    "HTTP_X_REAL_IP",
    example=("HTTP_X_REAL_IP", "X-Real-IP"),
    also=("REMOTE_ADDR",),
)
# Failed admin logins for one user name from all addresses together before that name waits
# for the rest of the window (omsportal/security.py says why).
ADMIN_LOGIN_FAILURES_RATE = env_rate("ADMIN_LOGIN_FAILURES_RATE", default="10/m")
# Staff sessions end after this long without an admin page; visitors keep their region a year.
ADMIN_SESSION_IDLE = int(env_float("ADMIN_SESSION_IDLE_HOURS", 4, unit="hours") * 3600)

# django-ratelimit: counts in the shared cache, by the address above. A cache outage lets
# requests through (the limits protect capacity; readiness reports the outage).
RATELIMIT_IP_META_KEY = "omsportal.security.client_ip"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "omsportal.views.too_many_requests"
# Region choices per address: each one writes a session (a database row and a Redis key).
REGION_CHOICE_RATE = env_rate("REGION_CHOICE_RATE", default="20/m")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Uploaded registry files: what staff may publish.
REGISTRY_MAX_UPLOAD_BYTES = env_int("REGISTRY_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, unit="bytes")

# Mail. Every message leaves through the appeals outbox (`manage.py send_mail_outbox`), never
# from a request. EMAIL_URL: smtp://user:password@host:587 (STARTTLS: smtp+tls://, TLS:
# smtp+ssl://). Without it, development prints mails to the console; with DEBUG off nothing is
# sent (mails carry personal data, the console is the log): the sender says so and sends nothing,
# and the mails wait in the outbox, their attempts untouched, until EMAIL_URL is set.
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "appeals.mail.NotConfiguredBackend"
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, unit="seconds")
# Empty is unset (the compose file passes it on empty): a mail without a sender is refused.
# Django's default here is no address to send from: check --deploy warns (omsportal.W003).
DEFAULT_FROM_EMAIL = (
    os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or global_settings.DEFAULT_FROM_EMAIL
)

# Written appeals (appeals/). The answer deadline is the insurer's own target, shown to staff
# only (the site states no legal deadline: data/legal.md).
APPEALS_ANSWER_DAYS = env_int("APPEALS_ANSWER_DAYS", 30, unit="days")
# django-ratelimit rates ("5/h", "20/d"), counted like the others above (shared cache, the
# trusted proxy's client address). With the cache away appeals are still accepted, unlimited:
# refusing every citizen is worse than a robot let through a while (honeypot and fill time hold).
APPEALS_RATE_PER_ADDRESS = env_rate("APPEALS_RATE_PER_ADDRESS", default="10/h")
APPEALS_RATE_PER_CONTACT = env_rate("APPEALS_RATE_PER_CONTACT", default="5/d")
APPEALS_MIN_FILL_SECONDS = env_float("APPEALS_MIN_FILL_SECONDS", 3, unit="seconds")
# The form's 5,000 characters are at most about 60 KB URL-encoded; larger bodies are refused.
APPEALS_MAX_BODY_BYTES = env_int("APPEALS_MAX_BODY_BYTES", 128 * 1024, unit="bytes")
# `manage.py purge_appeals` removes the personal data of appeals closed longer ago than this.
APPEALS_PURGE_AFTER_DAYS = env_int("APPEALS_PURGE_AFTER_DAYS", 365, unit="days")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12)
OUTBOX_RETRY_SECONDS = env_int("OUTBOX_RETRY_SECONDS", 60, unit="seconds")

# The federal hotline, shown on every page. One place to change it.
HOTLINE_DISPLAY = "8 (800) 333-60-03"
HOTLINE_TEL = "+78003336003"

# A trusted proxy (CDN, geo-IP) may name the visitor's region as an ISO 3166-2 code in this
# header, e.g. "HTTP_X_GEO_REGION". Unset: the header is ignored, whatever clients send.
REGION_HEADER = env_meta_key("REGION_HEADER", "", example=("HTTP_X_GEO_REGION", "X-Geo-Region"))

# json: one JSON object a line (production, the default with DEBUG off); text: for people.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT is json or text.")
# Any case, as GUNICORN_LOGLEVEL («info»): logging itself takes upper case only, and refused
# «info» at django.setup() with an error that named no variable.
_log_level = env.str("LOG_LEVEL", default="INFO")
LOG_LEVEL = _log_level.strip().upper()
if LOG_LEVEL not in logging.getLevelNamesMapping():
    raise ImproperlyConfigured(
        f"LOG_LEVEL is DEBUG, INFO, WARNING, ERROR or CRITICAL, not {_log_level!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "omsportal.logs.RequestIdFilter"},
        "quiet_probes": {"()": "omsportal.logs.QuietProbeErrors"},
        "client_faults": {"()": "omsportal.logs.ClientFaultsAsWarnings"},
        "origins_only": {"()": "omsportal.logs.OriginsOnly"},
    },
    "formatters": {
        "json": {"()": "omsportal.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "client_faults"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request line already has every 4xx; django.request still logs 5xx with the trace.
        "django.request": {"level": "ERROR", "filters": ["quiet_probes"]},
        # Lockouts are warnings; its info lines come with every failed login.
        "axes": {"level": "WARNING"},
        # A refused POST names the Referer or Origin: its origin only, no path or query. On the
        # logger, not the handler, so that whatever handles the record gets it without them.
        "django.security.csrf": {"filters": ["origins_only"]},
    },
}
