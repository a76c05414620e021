"""gunicorn settings for the web process, from the environment (scripts/start-web reads this).

The request log is the site's own JSON line per request (omsportal.middleware.RequestLogMiddleware,
written to stdout), so gunicorn's access log is off by default: one line per request, not two,
and none with client addresses. GUNICORN_ACCESSLOG=- turns gunicorn's on for debugging.
"""

import os
from pathlib import Path

import environ


def whole_number(name: str, default: int, unit: str = "") -> int:
    """As the settings' env_int: int("two") stopped gunicorn with a bare «ValueError: invalid
    literal for int()», naming no variable. SystemExit, not an exception: gunicorn prints an
    exception from its config file as a trace, and this one line is all there is to say."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        unit = f" of {unit}" if unit else ""
        raise SystemExit(
            f"{name} is a whole number{unit} such as {default}, not {value!r}."
        ) from None


# Inside a container the port is published by Docker; outside, HOST=127.0.0.1 keeps it local.
bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{whole_number('PORT', 8000)}"]  # noqa: S104
workers = whole_number("WEB_CONCURRENCY", 2, "worker processes")
# More than one thread makes gunicorn use its gthread worker: a slow client or download does
# not hold a whole process.
threads = whole_number("GUNICORN_THREADS", 4, "threads")
timeout = whole_number("GUNICORN_TIMEOUT", 30, "seconds")
# On SIGTERM (docker stop, a rolling deploy) requests in flight get this long to finish.
graceful_timeout = whole_number("GUNICORN_GRACEFUL_TIMEOUT", 30, "seconds")
keepalive = 5
# As long a request line as nginx's large_client_header_buffers passes (8 KB): a shorter limit
# here answered the difference with gunicorn's own English page, without the site's headers.
limit_request_line = 8190
# Recycle workers now and then so that a slow leak never becomes an outage.
max_requests = whole_number("GUNICORN_MAX_REQUESTS", 2000, "requests")
max_requests_jitter = max_requests // 10
# Heartbeat files on a RAM disk: a container's overlay disk can stall them into false timeouts.
if Path("/dev/shm").is_dir():  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# Several instances may share a host (and a home directory): no shared control socket.
control_socket_disable = True
# The one scheme header nginx sets (and Django reads, SECURE_PROXY_SSL_HEADER). gunicorn's
# default also believes X-Forwarded-Ssl and X-Forwarded-Protocol, which nginx passes on from the
# client: one that contradicted nginx's X-Forwarded-Proto made the request a 400.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# The same default as settings.LOG_FORMAT: json unless DEBUG is on, DEBUG read by the same
# parser as the settings (a hand-made list missed «ok»: gunicorn's lines and the site's differed).
debug = environ.Env().bool("DEBUG", default=False)
if os.environ.get("LOG_FORMAT", "text" if debug else "json") == "json":
    # gunicorn's own lines (start, stop, worker timeouts) in the same JSON as the site's.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "omsportal.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            }
        },
        "loggers": {
            "gunicorn.error": {
                "handlers": ["console"],
                "level": loglevel.upper(),
                "propagate": False,
            },
            "gunicorn.access": {
                "handlers": ["console"] if accesslog else [],
                "level": "INFO",
                "propagate": False,
            },
        },
        "root": {"handlers": [], "level": "WARNING"},
    }
