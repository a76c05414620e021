"""Production logs: one JSON line per request, errors with their trace, nothing personal."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils.module_loading import import_string

from omsportal.logs import JsonFormatter

from .support import settings_json

pytestmark = pytest.mark.django_db


def broken(request):
    raise RuntimeError("the view broke")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("broken/", broken), path("fine/", fine), path("", include("omsportal.urls"))]


@pytest.fixture
def json_log():
    """The production handler (settings.LOGGING with LOG_FORMAT=json) on a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    for name in settings.LOGGING["handlers"]["console"]["filters"]:  # the handler's, as set
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


def request_lines(lines):
    return [line for line in lines if line["logger"] == "omsportal.request"]


def test_one_json_line_per_request(client, regions, json_log):
    response = client.get("/zashchita-prav/")
    client.get("/no-such-page/")

    first, second = request_lines(json_log())
    assert set(first) >= {"time", "method", "path", "status", "duration_ms", "request_id"}
    assert first["method"] == "GET" and first["path"] == "/zashchita-prav/"
    assert first["status"] == 200 and second["status"] == 404
    assert isinstance(first["duration_ms"], float)
    assert first["time"].endswith("+00:00")
    assert first["request_id"] == response["X-Request-ID"]
    assert first["request_id"] != second["request_id"]


def test_nothing_personal_or_secret_in_the_lines(client, regions, json_log, settings):
    client.cookies["sessionid"] = "cookie-value-that-must-not-leak"
    client.post(
        "/regions/choose/?phone=89161234567",
        {"region": "moscow", "next": "/", "password": "секретный-пароль"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Agent/1.0",
    )
    text = json.dumps(json_log(), ensure_ascii=False)
    for private in (
        "cookie-value-that-must-not-leak",
        "89161234567",  # query strings can carry anything a visitor typed
        "секретный-пароль",
        "203.0.113.7",
        "Agent/1.0",
        settings.SECRET_KEY,
    ):
        assert private not in text
    assert request_lines(json_log())[0]["path"] == "/regions/choose/"


@pytest.mark.parametrize(
    ("incoming", "echoed"),
    [
        ("lb-7f3a9c2e-0001", True),
        ("Root=1-5759e988-bd862e3fe1be46a994272793", True),
        ("<script>alert(1)</script>", False),
        ("x" * 200, False),
    ],
)
def test_request_id_from_the_proxy_when_it_is_a_safe_token(client, json_log, incoming, echoed):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert (response["X-Request-ID"] == incoming) is echoed
    if not echoed:
        assert len(response["X-Request-ID"]) == 32  # a fresh uuid4, hex


def test_an_error_is_logged_with_its_trace_and_request_id(regions, settings, json_log):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).post(
        "/broken/", {"password": "секретный-пароль"}
    )
    assert response.status_code == 500

    lines = json_log()
    error = next(line for line in lines if line["level"] == "ERROR")
    assert error["logger"] == "django.request"
    assert "Traceback" in error["exception"]
    assert "RuntimeError: the view broke" in error["exception"]
    (request,) = request_lines(lines)
    assert request["status"] == 500
    assert error["request_id"] == request["request_id"] == response["X-Request-ID"]
    assert "секретный-пароль" not in json.dumps(lines, ensure_ascii=False)


def test_a_request_made_wrong_is_a_warning_not_an_error_with_a_trace(regions, json_log):
    """One long query string must not page the operator: the client gets its 400."""
    query = "&".join(f"a{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = Client(raise_request_exception=False).get(f"/v-drugom-regione/otvet/?{query}")
    assert response.status_code == 400
    (line,) = [line for line in json_log() if line["logger"].startswith("django.security.")]
    assert line["logger"] == "django.security.TooManyFieldsSent"
    assert line["level"] == "WARNING" and "exception" not in line
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in line["message"]


def test_each_line_is_one_line_of_json(regions, settings, json_log):
    settings.ROOT_URLCONF = __name__
    Client(raise_request_exception=False).get("/broken/")
    assert all(isinstance(line, dict) for line in json_log())  # a trace never splits a line


def test_production_logging_settings_are_json_by_default():
    # A clean process: whatever DEBUG or LOG_FORMAT the shell running the tests has.
    log_format, handler = settings_json(
        "print(json.dumps([settings.LOG_FORMAT, settings.LOGGING['handlers']['console']]))"
    )
    assert log_format == "json"
    assert handler["formatter"] == "json"
    assert handler["stream"] == "ext://sys.stdout"


# What a person typed on another site travels in its address, and a browser posting a form from
# there names that address in Referer: a refused POST's log line keeps only the origin.
TYPED = "Иванов диагноз"
SECRET = "reset-token-s3cr3t"


@pytest.mark.parametrize(
    ("path", "headers", "kept", "left_out"),
    [
        (
            "/obrashchenie/",
            {"Referer": f"https://search.example:8443/find?q={TYPED}&token={SECRET}#top"},
            "Referer checking failed - https://search.example:8443 does not match",
            ["/find", TYPED, SECRET, "#top"],
        ),
        (
            "/admin/login/",
            {"Referer": f"https://staff:{SECRET}@mail.example/inbox/{SECRET}"},
            "Referer checking failed - https://mail.example does not match",
            ["staff", SECRET, "/inbox"],
        ),
        (
            "/obrashchenie/",
            {"Origin": f"https://evil.example/page?token={SECRET}"},
            "Origin checking failed - https://evil.example does not match",
            [SECRET, "/page"],
        ),
        (
            "/admin/login/",
            {"Origin": "null"},
            "Origin checking failed - null does not match",
            [],
        ),
    ],
    ids=["referer-query", "referer-credentials", "origin-with-path", "null-origin"],
)
def test_a_refused_post_logs_only_the_origin_it_came_from(
    regions, caplog, json_log, path, headers, kept, left_out
):
    client = Client(enforce_csrf_checks=True, headers=headers)
    response = client.post(path, {"text": "x", "username": "staff"}, secure=True)
    assert response.status_code == 403

    (record,) = [r for r in caplog.records if r.name == "django.security.csrf"]
    (line,) = [line for line in json_log() if line["logger"] == "django.security.csrf"]
    for message in (record.getMessage(), line["message"]):
        assert message.startswith("Forbidden (") and kept in message
        assert message.endswith(f"): {path}")  # the site's own path stays
        for private in left_out:
            assert private not in message


def test_a_refused_posts_origin_is_logged_at_most_200_characters_long(regions, json_log):
    host = "a" * 1000 + ".example"
    client = Client(enforce_csrf_checks=True, headers={"Referer": f"https://{host}/"})
    assert client.post("/obrashchenie/", {"text": "x"}, secure=True).status_code == 403
    (line,) = [line for line in json_log() if line["logger"] == "django.security.csrf"]
    assert f"Referer checking failed - https://{'a' * 192}… does not match" in line["message"]
    assert len(line["message"]) < 400


def test_a_database_error_that_quotes_a_row_is_logged_without_the_row():
    """PostgreSQL's DETAIL names the row or key a statement failed on: a constraint broken by an
    admin save or an import put a person's name and address in the trace."""
    from django.db import IntegrityError, connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the DETAIL line is PostgreSQL's: run with DATABASE_URL=postgres://…")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE people (name text NOT NULL, email text UNIQUE)")
            cursor.execute(
                "INSERT INTO people VALUES ('Иванова Мария', 'ivanova.test@example.com'),"
                " ('Петрова Анна', 'ivanova.test@example.com')"
            )
    except IntegrityError as error:
        caught = error
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: /admin/", (), None
    )
    record.exc_info = (type(caught), caught, caught.__traceback__)
    line = json.loads(JsonFormatter().format(record))
    assert "duplicate key value violates unique constraint" in line["exception"]
    assert "DETAIL: (left out of the log: it can quote a row)" in line["exception"]
    assert "ivanova.test@example.com" not in line["exception"]


def run_command(*argv: str, **env) -> subprocess.CompletedProcess:
    """manage.py in a clean process with a production-like environment, its database down."""
    clean = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "a.test",
        "DATABASE_URL": "postgres://omsportal@127.0.0.1:1/omsportal",
        "CACHE_URL": "locmemcache://",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *argv],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_scheduled_command_that_fails_says_so_in_one_json_line():
    result = run_command("clearsessions")
    assert result.returncode == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["level"] == "CRITICAL" and line["message"] == "manage.py clearsessions failed"
    assert "OperationalError" in line["exception"]


def test_a_command_names_no_arguments_when_it_fails():
    # An import's path or a user's address stay out of the failure line.
    result = run_command("changepassword", "ivanova@example.ru")
    assert result.returncode == 1
    line = json.loads(result.stdout.splitlines()[-1])
    assert line["message"] == "manage.py changepassword failed"
    assert "ivanova" not in line["message"]


def test_with_text_logs_the_trace_is_pythons_own():
    result = run_command("clearsessions", LOG_FORMAT="text")
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "OperationalError" in result.stderr


# What the scheduled commands say, with JSON logs, on a database of their own.


@pytest.fixture(scope="module")
def command_database(tmp_path_factory) -> dict[str, str]:
    """The environment of manage.py over a migrated SQLite file, JSON logs (DEBUG off)."""
    database = tmp_path_factory.mktemp("commands") / "db.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    assert run_command("migrate", "--noinput", "-v0", **env).returncode == 0
    return env


@pytest.fixture
def refusing_smtp(command_database):
    """A mail waiting in the outbox and an SMTP server that answers it 451."""
    from .appeals_support import EMAIL, SmtpServer

    queue = (
        "from appeals.models import OutboxMail; OutboxMail.objects.all().delete();"
        f"OutboxMail.objects.create(kind='confirmation', to='{EMAIL}', subject='s', body='b')"
    )
    assert run_command("shell", "-c", queue, **command_database).returncode == 0
    server = SmtpServer()
    server.refuse = True
    server.start()
    yield command_database | {
        "EMAIL_URL": server.email_url,
        "DEFAULT_FROM_EMAIL": "oms-sait@example.com",
    }
    server.stop()


def json_lines(output: str) -> list[dict]:
    """Every line of the output, each of which must be one JSON object."""
    return [json.loads(line) for line in output.splitlines()]


def test_a_single_mailer_pass_that_sent_nothing_ends_with_the_commands_json_line(refusing_smtp):
    """Its CommandError («Отправлено: 0, не удалось: 1: …», exit 1 for cron) was Django's plain
    «CommandError: …» on stderr, though README promises an omsportal.commands JSON line."""
    from .appeals_support import EMAIL

    result = run_command("send_mail_outbox", **refusing_smtp)
    assert result.returncode == 1
    assert result.stderr == ""
    warning, failure = json_lines(result.stdout)
    # The exception's class, not its text: a server's answer may quote the address.
    assert warning["message"].endswith("not sent (attempt 1): SMTPDataError")
    assert failure["logger"] == "omsportal.commands"
    assert failure["message"] == "manage.py send_mail_outbox failed"
    assert "Отправлено: 0, не удалось: 1: почтовый сервер" in failure["exception"]
    assert "Traceback" not in failure["exception"]  # the message written for people, alone
    assert EMAIL not in result.stdout


def test_the_mailer_service_says_what_each_pass_did_in_json_lines(refusing_smtp):
    """`send_mail_outbox --loop` (the compose file's mailer) printed «Отправлено: 0, не удалось:
    1» as a plain line between its JSON ones."""
    mailer = subprocess.Popen(
        [sys.executable, "manage.py", "send_mail_outbox", "--loop", "0.2"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "SECRET_KEY": "x" * 50,
            "ALLOWED_HOSTS": "a.test",
            **refusing_smtp,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        output = ""
        while "не удалось" not in output:
            line = mailer.stdout.readline()
            assert line, mailer.stderr.read()
            output += line
    finally:
        mailer.terminate()
        rest, errors = mailer.communicate(timeout=10)
    assert errors == ""
    lines = json_lines(output + rest)
    summary = next(line for line in lines if "не удалось" in line["message"])
    assert summary["message"] == "Отправлено: 0, не удалось: 1"
    assert summary["logger"] == "appeals.management.commands.send_mail_outbox"
    assert summary["level"] == "INFO"


@pytest.mark.parametrize(
    ("command", "logger", "message"),
    [
        ("purge_appeals", "appeals.management.commands.purge_appeals", "Очищено обращений: 0"),
        (
            "purge_admin_logins",
            "omsportal.management.commands.purge_admin_logins",
            "Staff login records: No logs found.",
        ),
    ],
)
def test_the_daily_clean_up_says_what_it_did_in_json_lines(
    command_database, command, logger, message
):
    result = run_command(command, **command_database)
    assert result.returncode == 0, result.stderr
    (line,) = json_lines(result.stdout)
    assert (line["logger"], line["message"]) == (logger, message)


def test_with_text_logs_a_command_error_is_djangos_own_line(command_database):
    result = run_command("send_mail_outbox", LOG_FORMAT="text", **command_database)
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: EMAIL_URL не задан")
