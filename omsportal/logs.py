"""Log lines for production: one JSON object a line, with the request id of the request.

Plain Python (no Django import) so gunicorn's own logger can use the same formatter.
What a line may carry is a fixed list of fields: a record's other attributes (Django attaches
the whole request to its error records) never reach the output, so cookies, headers, client
addresses and POST bodies cannot leak into the logs by accident.
"""

import contextvars
import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from regions.origins import origin_of

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

# A proxy's id is echoed back in a response header and written to the logs: only tokens that
# cannot split a header or a log line, or smuggle markup, are accepted.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=-]{0,127}")

# Fields a request line (omsportal.middleware.RequestLogMiddleware) or Django may add.
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "status_code")


def request_id_from(incoming: str | None) -> str:
    if incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request being served (empty outside a request)."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class ClientFaultsAsWarnings(logging.Filter):
    """django.security's errors are requests a client made wrong (too many fields, a body over
    the limit, a broken multipart form): the client gets a 400, and the site has nothing to fix.
    Django logs each as an ERROR with a traceback, so anyone could page the operator with one
    long query string. Here they are warnings, without the trace; the message stays."""

    def filter(self, record):
        if record.name.startswith("django.security.") and record.levelno == logging.ERROR:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


# Django's CSRF refusals name the client's Referer (its path and query included) or Origin:
# "Forbidden (Referer checking failed - https://… does not match any trusted origins.): /path".
# Everything between the dash and the last "does not match" is the client's header.
CSRF_REASON_WITH_URL = re.compile(
    r"((?:Origin|Referer) checking failed - )(.*)( does not match any trusted origins\.)",
    re.DOTALL,
)
# Any other URL in such a line (another Django version's wording).
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
MAX_LOGGED_ORIGIN = 200


def loggable_origin(value: str) -> str:
    """What a log line may keep of an address a client sent: its origin (scheme://host[:port]),
    or of anything else ("null") what comes before a path or query, at most 200 characters."""
    origin = origin_of(value) or re.split(r"[/?#]", value, maxsplit=1)[0]
    return origin if len(origin) <= MAX_LOGGED_ORIGIN else origin[:MAX_LOGGED_ORIGIN] + "…"


class OriginsOnly(logging.Filter):
    """django.security.csrf logs a refused POST with the whole Referer, whose path and query can
    carry what a person typed elsewhere (search terms, tokens), and a client chooses its length.
    The line keeps only the origin the refusal was about, which is all an operator needs to add
    a missing CSRF_TRUSTED_ORIGINS."""

    def filter(self, record):
        message = record.getMessage()
        message, found = CSRF_REASON_WITH_URL.subn(
            lambda m: m[1] + loggable_origin(m[2]) + m[3], message, count=1
        )
        if not found:
            message = URL.sub(lambda m: loggable_origin(m[0]), message)
        record.msg, record.args = message, ()
        return True


# PostgreSQL's detail of a statement that failed quotes the row or the key it failed on:
# «DETAIL:  Failing row contains (…)», «Key (email)=(…) already exists». A constraint broken by
# an admin save, an import or a command put that in the trace: an appeal's name, contacts and
# health. The appeal form logs only the error's type; every other path goes through here.
DATABASE_DETAIL = re.compile(r"^(DETAIL:)[ \t]*\S.*$", re.MULTILINE)


class JsonFormatter(logging.Formatter):
    def formatException(self, ei):
        trace = super().formatException(ei)
        return DATABASE_DETAIL.sub(r"\1 (left out of the log: it can quote a row)", trace)

    def format(self, record):
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_command_failure(argv: list[str], error: BaseException | None = None) -> bool:
    """A scheduled command (clearsessions, the mailer, the purges) that fails says so in one JSON
    line, its trace inside, as the requests' errors do: Python's own multi-line trace on stderr
    is dozens of lines a log collector takes one by one, and PostgreSQL's DETAIL in it can quote
    a row. Only the command's name, not its arguments (paths, addresses). False where the JSON
    log is not set up (text logs, or settings that failed to load): the trace is left to Python.
    ``error``: a CommandError, the message a command wrote for people («в файле двоичные
    данные…»): the line keeps it without a trace, which would only show where it was raised.
    """
    from django.conf import settings

    try:
        json_format = settings.LOG_FORMAT == "json"
    except Exception:  # the settings themselves are what failed
        return False
    if not json_format or not logging.getLogger().handlers:
        return False
    command = argv[1] if len(argv) > 1 else ""
    exc_info = True
    if error is not None:
        # Its message alone: no trace, nor that of what it was raised from (traceback's
        # formatting reads the exception's own and its chain, not exc_info's).
        error.__cause__ = error.__context__ = None
        exc_info = (type(error), error.with_traceback(None), None)
    logging.getLogger("omsportal.commands").critical(
        "manage.py %s failed", command, exc_info=exc_info
    )
    return True


def log_command_errors() -> None:
    """manage.py's CommandError (a single mailer pass that sent nothing, a missing EMAIL_URL, a
    bad argument a command checks itself) ended with Django's plain «CommandError: …» on stderr:
    the one failure of a scheduled command that did not come as the omsportal.commands JSON
    line. With JSON logs it does now; with text logs, and for the system checks' report (what
    `check --deploy` prints for a person), Django's own output stays. Called by manage.py
    only: call_command() (tests, other commands) still raises the CommandError."""
    from django.core.management.base import BaseCommand, CommandError, SystemCheckError

    run_from_argv = BaseCommand.run_from_argv

    def run_from_argv_logging_errors(self, argv):
        execute = self.execute

        def execute_logging_errors(*args, **options):
            try:
                return execute(*args, **options)
            except CommandError as error:
                if isinstance(error, SystemCheckError) or not log_command_failure(argv, error):
                    raise
                sys.exit(error.returncode)

        self.execute = execute_logging_errors
        return run_from_argv(self, argv)

    BaseCommand.run_from_argv = run_from_argv_logging_errors


request_logger = logging.getLogger("omsportal.request")

# Probes answer many times a minute; a line each would bury the requests people make.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})


class QuietProbeErrors(logging.Filter):
    """Drops django.request's «Service Unavailable: /readyz»: a failing probe repeats every few
    seconds, and its own warning already says why; as an ERROR it would page someone each time.
    A probe that raises (a 500) keeps its trace."""

    def filter(self, record):
        request = getattr(record, "request", None)
        return not (
            getattr(record, "status_code", None) == 503
            and request is not None
            and request.path in QUIET_PATHS
        )


def log_request(method: str, path: str, status: int, duration_ms: float) -> None:
    """The one line per request (RequestLogMiddleware)."""
    if path in QUIET_PATHS and status < 500:
        return
    request_logger.info(
        "%s %s %s %sms",
        method,
        path,
        status,
        duration_ms,
        extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms},
    )
