import logging
import os
import secrets
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import pytest

from .support import settings_json

ROOT = Path(__file__).resolve().parents[1]


def load_settings(**env):
    """Imports the real settings module in a clean process with exactly this environment."""
    clean = {"PATH": os.environ["PATH"], **env}
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='omsportal.settings';"
        "from django.conf import settings;"
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT,"
        " settings.TIME_ZONE, settings.LANGUAGE_CODE, settings.DATABASES['default']['ENGINE'],"
        " settings.CACHES['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_missing_secret_key_is_a_clear_start_up_error():
    result = load_settings(ALLOWED_HOSTS="example.test")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_secret_keys_are_taken_as_they_are():
    # get_random_secret_key() may start a key with «$», which django-environ would read as the
    # name of another variable.
    key, old = "$x8v!k2@" + "a" * 42, "$PATH"
    keys = settings_json(
        "print(json.dumps([settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS]))",
        SECRET_KEY=key,
        SECRET_KEY_FALLBACKS=f"{old}, older-key",
    )
    assert keys == [key, [old, "older-key"]]


def test_missing_allowed_hosts_is_a_clear_start_up_error():
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


@pytest.mark.parametrize(
    "hosts", ["https://oms.example.ru", "oms.example.ru, http://www.oms.example.ru", "a.test/"]
)
def test_a_url_in_allowed_hosts_is_a_clear_start_up_error(hosts):
    """Accepted, it matched no request (every page the 400), and check --deploy's hint said
    «Add https to ALLOWED_HOSTS»."""
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS holds host names such as oms.example.ru" in result.stderr
    assert f"not {hosts.split(', ')[-1]!r}" in result.stderr


def test_production_defaults_are_safe():
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "Europe/Moscow",
        "ru",
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_database_and_cache_come_from_the_environment():
    result = load_settings(
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="example.test",
        DATABASE_URL="postgres://u@127.0.0.1:5432/db",
        CACHE_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    engine, cache = result.stdout.split()[-2:]
    assert engine == "omsportal.postgresql"  # Django's, with a deadline on every wait
    assert "redis" in cache.lower()


def cache_settings(cache_url: str) -> dict:
    return settings_json(
        "c = settings.CACHES['default']; pool = c['OPTIONS'].pop('CONNECTION_POOL_KWARGS');"
        "print(json.dumps({**c['OPTIONS'], 'class': pool['connection_class'].__name__}))",
        CACHE_URL=cache_url,
    )


@pytest.mark.parametrize(
    ("cache_url", "connection_class"),
    [
        ("redis://cache.internal:6379/2", "PausedConnection"),
        ("rediss://cache.internal:6380/2?ssl_cert_reqs=required", "PausedSSLConnection"),
        ("redis:///run/redis/redis.sock", "PausedUnixConnection"),
        ("redis://primary:6379,replica:6379/0", "PausedConnection"),
    ],
)
def test_every_kind_of_redis_url_gets_the_pause_after_failure(cache_url, connection_class):
    """What a hung Redis costs (tests/test_redis_cache.py) holds for TLS, sockets and replicas
    too, and the URL's own options are kept."""
    options = cache_settings(cache_url)
    assert options["class"] == connection_class
    assert options["IGNORE_EXCEPTIONS"] is True
    assert (options["SOCKET_CONNECT_TIMEOUT"], options["SOCKET_TIMEOUT"]) == (0.3, 0.5)
    if "ssl_cert_reqs" in cache_url:
        assert options["SSL_CERT_REQS"] == "required"


def test_the_redis_urls_own_settings_are_kept():
    url = "redis://cache.internal:6379/2?timeout=600&version=3"
    cache = settings_json(
        "c = settings.CACHES['default']; print(json.dumps([c['TIMEOUT'], c['VERSION']]))",
        CACHE_URL=url,
    )
    assert cache == [600, 3]


def test_a_region_header_named_as_sent_is_a_clear_start_up_error():
    env = {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.test", "REGION_HEADER": "X-Geo-Region"}
    result = load_settings(**env)
    assert result.returncode != 0
    assert "HTTP_X_GEO_REGION" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TRUSTED_PROXIES", "10.0.0.5, notanip", "not 'notanip'"),
        ("CLIENT_IP_HEADER", "X-Real-IP", "HTTP_X_REAL_IP for X-Real-IP"),
        ("REGION_CHOICE_RATE", "twenty", "REGION_CHOICE_RATE is a rate such as 10/m"),
        ("APPEALS_RATE_PER_CONTACT", "5 per day", "APPEALS_RATE_PER_CONTACT is a rate"),
        # A window of zero minutes divided by zero on every request.
        ("REGION_CHOICE_RATE", "10/0m", "REGION_CHOICE_RATE is a rate"),
        # Links in mails and robots.txt would have been «oms.example.ru/obrashchenie/…».
        ("SITE_URL", "oms.example.ru", "SITE_URL is the site's address"),
        ("SITE_URL", "localhost:8000", "not 'localhost:8000'"),
        ("SITE_URL", "ftp://oms.example.ru", "such as https://oms.example.ru"),
        ("SITE_URL", "https://oms.example.ru/portal?x=1", "scheme and host only"),
        ("SITE_URL", "https://", "SITE_URL is the site's address"),
        ("SITE_URL", "https://oms.example.ru:https", "SITE_URL is the site's address"),
        # Were «KeyError: 'ENGINE'» and «Invalid cache schema », naming no variable.
        ("DATABASE_URL", "", "DATABASE_URL is set but empty: give a URL such as postgres://"),
        ("DATABASE_URL", " ", "DATABASE_URL is set but empty"),
        ("CACHE_URL", "", "CACHE_URL is set but empty: give a URL such as redis://"),
        ("DATABASE_URL", "db.internal:5432/omsportal", "DATABASE_URL is not a URL this site"),
        ("CACHE_URL", "127.0.0.1:6379", "CACHE_URL is not a URL this site reads"),
    ],
)
def test_values_that_would_fail_at_the_first_request_stop_the_start(name, value, message):
    """Each passed `check --deploy` and then answered the first form sent with a 500, or (the
    header) made every client look like nginx, one rate limit for all."""
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.test", **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CONN_MAX_AGE": "abc", "DATABASE_URL": "postgres://u@db.invalid:5432/omsportal"},
            "CONN_MAX_AGE is a whole number of seconds such as 60, not 'abc'.",
        ),
        ({"PUBLIC_PAGE_MAX_AGE": "1m"}, "PUBLIC_PAGE_MAX_AGE is a whole number of seconds such"),
        ({"APPEALS_PURGE_AFTER_DAYS": ""}, "APPEALS_PURGE_AFTER_DAYS is a whole number of days"),
        ({"AXES_COOLOFF_HOURS": "1h"}, "AXES_COOLOFF_HOURS is a number of hours such as 1.0"),
        # float() reads these; no timeout means them.
        ({"CACHE_FAILURE_PAUSE": "inf"}, "CACHE_FAILURE_PAUSE is a number of seconds such as 5"),
        (
            {"CACHE_TIMEOUT": "half", "CACHE_URL": "redis://cache.invalid:6379/0"},
            "CACHE_TIMEOUT is a number of seconds such as 0.5, not 'half'.",
        ),
    ],
)
def test_a_number_that_is_no_number_names_its_variable(env, message):
    """Each stopped the start with a bare «ValueError: invalid literal for int() with base 10:
    'abc'» (or django-environ's float read «1h» as 1.0): which of forty variables?"""
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.test", **env)
    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr


def test_numbers_are_read_with_spaces_around_them():
    assert settings_json(
        "print(json.dumps([settings.PUBLIC_PAGE_MAX_AGE, settings.AXES_COOLOFF_TIME]))",
        PUBLIC_PAGE_MAX_AGE=" 120 ",
        AXES_COOLOFF_HOURS="0.5",
    ) == [120, 0.5]


def test_a_refused_database_url_is_not_repeated_with_its_password():
    result = load_settings(
        SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.test", DATABASE_URL="postgress://u:s3cr3t@db/oms"
    )
    assert "DATABASE_URL is not a URL this site reads" in result.stderr
    assert "s3cr3t" not in result.stderr


def test_a_rates_unit_is_read_whatever_its_case():
    """django-ratelimit knows only s, m, h and d: it read «10/M» as 10 a second, 60 times the
    limit meant, while the start-up check let it through as a valid rate."""
    rates = settings_json(
        "print(json.dumps([settings.ADMIN_LOGIN_FAILURES_RATE, settings.APPEALS_RATE_PER_CONTACT,"
        " settings.REGION_CHOICE_RATE]))",
        ADMIN_LOGIN_FAILURES_RATE="10/M",
        APPEALS_RATE_PER_CONTACT="5/D",
        REGION_CHOICE_RATE="20/15M",
    )
    assert rates == ["10/m", "5/d", "20/15m"]


def test_the_log_level_is_read_whatever_its_case():
    # GUNICORN_LOGLEVEL's default is «info»: the same spelling in LOG_LEVEL stopped every
    # process at django.setup() with «ValueError: Unable to configure root logger», which
    # named no variable.
    level = settings_json(
        "import django, logging; django.setup(); print(logging.getLogger().level)",
        LOG_LEVEL="warning",
    )
    assert level == logging.WARNING
    result = load_settings(SECRET_KEY="x" * 50, ALLOWED_HOSTS="a.test", LOG_LEVEL="verbose")
    assert result.returncode != 0
    assert "LOG_LEVEL is DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'verbose'" in result.stderr


def test_lists_are_read_with_spaces_after_the_commas():
    values = settings_json(
        "print(json.dumps([settings.ALLOWED_HOSTS, settings.TRUSTED_PROXIES]))",
        ALLOWED_HOSTS="a.test, b.test",
        TRUSTED_PROXIES="10.0.0.5, 10.0.0.6",
    )
    assert values == [["a.test", "b.test"], ["10.0.0.5", "10.0.0.6"]]


def database_settings(**env) -> dict:
    return settings_json(
        "print(json.dumps(settings.DATABASES['default']))",
        **{"DATABASE_URL": "postgres://u@127.0.0.1:5432/db", **env},
    )


def test_database_timeouts_have_sane_defaults():
    db = database_settings()
    assert db["OPTIONS"] == {
        "connect_timeout": 3,
        "options": "-c statement_timeout=10000",
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30000,
    }
    assert db["CLIENT_TIMEOUT"] == 15


def test_database_timeouts_come_from_the_environment():
    db = database_settings(
        DATABASE_CONNECT_TIMEOUT="5",
        DATABASE_STATEMENT_TIMEOUT="0",
        DATABASE_KEEPALIVES_IDLE="60",
        DATABASE_TCP_USER_TIMEOUT="20",
    )
    assert db["OPTIONS"]["connect_timeout"] == 5
    assert db["OPTIONS"]["options"] == "-c statement_timeout=0"  # a long migration
    assert db["OPTIONS"]["keepalives_idle"] == 60
    assert db["OPTIONS"]["tcp_user_timeout"] == 20000
    assert db["CLIENT_TIMEOUT"] == 0


def test_development_needs_no_secret():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:3] == ["True", "False", "False"]


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(client, regions, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/zashchita-prav/")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "https://testserver/zashchita-prav/"


@pytest.mark.django_db
def test_the_proxy_header_marks_requests_secure(client, regions, settings):
    # As in production (test_production_defaults_are_safe), whatever DEBUG the shell has.
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = True
    response = client.post(
        "/regions/choose/", {"region": "perm-krai", "next": "/"}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == HTTPStatus.FOUND  # not the redirect to HTTPS
    assert response.cookies["sessionid"]["secure"]


def test_the_site_url_keeps_its_scheme_host_and_port():
    site_url = settings_json(
        "print(json.dumps(settings.SITE_URL))", SITE_URL=" http://localhost:8000/ "
    )
    assert site_url == "http://localhost:8000"


# As `make check-deploy` sets production (nothing connects to the database or the cache).
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "oms.example.ru",
    "CSRF_TRUSTED_ORIGINS": "https://oms.example.ru",
    "DATABASE_URL": "postgres://omsportal@db.invalid:5432/omsportal",
    "CACHE_URL": "redis://cache.invalid:6379/0",
    "EMAIL_URL": "smtp+tls://mail.invalid:587",
    "DEFAULT_FROM_EMAIL": "noreply@oms.example.ru",
}


def check_deploy(**env: str | None) -> subprocess.CompletedProcess:
    """``name=None`` leaves that variable of PRODUCTION unset."""
    environment = {"PATH": os.environ["PATH"], **PRODUCTION, **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={name: value for name, value in environment.items() if value is not None},
        capture_output=True,
        text=True,
    )


def test_check_deploy_says_when_the_site_url_is_a_guess():
    """Unset, the confirmation mail's status link was https://<first host>/…, wrong for a site
    served over plain HTTP or on a port (the compose stack: http://localhost:8000)."""
    result = check_deploy()
    assert result.returncode != 0
    assert "SITE_URL is not set: mails and pages link to https://oms.example.ru" in result.stderr
    assert "omsportal.W001" in result.stderr


def test_check_deploy_says_when_the_site_url_is_not_an_allowed_host():
    result = check_deploy(SITE_URL="https://www.oms.example.ru")
    assert result.returncode != 0
    assert "SITE_URL's host www.oms.example.ru is not in ALLOWED_HOSTS" in result.stderr
    assert "omsportal.W001" not in result.stderr


def test_check_deploy_passes_with_the_site_url_set():
    result = check_deploy(SITE_URL="https://oms.example.ru")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("unset", "warning"),
    [
        ("DATABASE_URL", "omsportal.W004"),
        ("CACHE_URL", "omsportal.W005"),
    ],
)
def test_check_deploy_says_when_instances_would_not_share_the_database_or_the_cache(unset, warning):
    """With DEBUG off and DATABASE_URL or CACHE_URL unset, check --deploy passed: the embedded
    SQLite file and each process's own cache, wrong as soon as there is a second instance."""
    result = check_deploy(SITE_URL="https://oms.example.ru", **{unset: None})
    assert result.returncode != 0
    assert warning in result.stderr
    assert f"HINT: Set {unset} to the" in result.stderr
    assert "more than one instance" in result.stderr
    # Given explicitly, the embedded database is no better.
    if unset == "DATABASE_URL":
        result = check_deploy(SITE_URL="https://oms.example.ru", DATABASE_URL="sqlite:///x.db")
        assert "omsportal.W004" in result.stderr


def test_make_check_deploy_gives_a_shared_database_and_cache():
    """CI runs `make check-deploy` (--fail-level WARNING): it passes because production's
    variables are given, not because the checks are off."""
    makefile = (ROOT / "Makefile").read_text()
    prod = makefile.split("PROD_CHECK_ENV :=", 1)[1].split("\n\n", 1)[0]
    assert "DATABASE_URL=postgres://" in prod and "CACHE_URL=redis://" in prod
    assert check_deploy(SITE_URL="https://oms.example.ru").returncode == 0


@pytest.mark.parametrize("sender", [None, "", "webmaster@localhost", "ОМС <oms@localhost>"])
def test_check_deploy_says_when_mails_would_go_out_from_localhost(sender):
    """With EMAIL_URL set and DEFAULT_FROM_EMAIL not, every confirmation went out from Django's
    default, webmaster@localhost, which receiving servers mark as spam or refuse."""
    result = check_deploy(SITE_URL="https://oms.example.ru", DEFAULT_FROM_EMAIL=sender)
    assert result.returncode != 0
    assert "omsportal.W003" in result.stderr
    assert "the appeals' mails go out from an address of no real domain" in result.stderr
    assert "HINT: Set DEFAULT_FROM_EMAIL to the company's address" in result.stderr


def test_the_sender_matters_only_once_mail_is_sent():
    # Without EMAIL_URL nothing is sent (send_mail_outbox says so): no warning to act on yet.
    result = check_deploy(
        SITE_URL="https://oms.example.ru", EMAIL_URL=None, DEFAULT_FROM_EMAIL=None
    )
    assert result.returncode == 0, result.stderr
    sender = settings_json(
        "print(json.dumps(settings.DEFAULT_FROM_EMAIL))",
        DEFAULT_FROM_EMAIL=" ОМС <noreply@oms.example.ru> ",
    )
    assert sender == "ОМС <noreply@oms.example.ru>"
