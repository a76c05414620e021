"""The Docker image, read as text (no Docker engine runs here; hadolint lints it in CI).

What matters is that the image starts the very script tests/test_instances.py runs, with
settings from the environment, and keeps secrets and build tools out.
"""

import fnmatch
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from .proxy import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instruction(name: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_the_image_runs_the_start_script_the_tests_run():
    assert json.loads(instruction("CMD")[-1]) == ["scripts/start-web"]
    start = (ROOT / "scripts" / "start-web").read_text()
    assert "exec gunicorn --config deploy/gunicorn.conf.py omsportal.wsgi" in start
    commands = [line for line in start.splitlines() if line and not line.startswith("#")]
    assert not any("migrate" in command for command in commands)  # a one-shot of its own


def compose_services() -> dict[str, str]:
    """docker-compose.yml's services, each name with its block as text (no YAML parser here)."""
    compose = (ROOT / "docker-compose.yml").read_text()
    services = re.split(r"^(?=[a-z])", compose.split("\nservices:\n", 1)[1], flags=re.M)[0]
    parts = re.split(r"^  ([a-z][\w-]*):\n", services, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_the_healthcheck_needs_no_curl():
    (healthcheck,) = instruction("HEALTHCHECK")
    assert '["python", "scripts/healthcheck.py"]' in healthcheck
    assert "curl" not in DOCKERFILE


def test_multi_stage_slim_non_root_without_secrets():
    assert instruction("FROM") == [
        "python:3.11-slim-bookworm AS build",
        "python:3.11-slim-bookworm AS web",
    ]
    assert instruction("USER") == ["10001:10001"]
    assert "COPY --from=build /opt/venv /opt/venv" in DOCKERFILE
    # The build-time key lives only for the collectstatic command: never an ENV of the image.
    assert not any("SECRET_KEY" in env for env in instruction("ENV"))
    assert any("collectstatic" in run for run in instruction("RUN"))
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", ".env.*", "var"} <= set(ignored)


def test_gunicorn_takes_its_sizes_from_the_environment(monkeypatch):
    for name, value in {
        "WEB_CONCURRENCY": "3",
        "GUNICORN_THREADS": "8",
        "GUNICORN_GRACEFUL_TIMEOUT": "20",
        "PORT": "9000",
    }.items():
        monkeypatch.setenv(name, value)
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    assert (config["workers"], config["threads"], config["graceful_timeout"]) == (3, 8, 20)
    assert config["bind"] == ["0.0.0.0:9000"]
    assert config["accesslog"] is None  # the site's JSON request line replaces it
    assert config["control_socket_disable"] is True


def test_gunicorn_logs_json_like_the_site_unless_debug(monkeypatch):
    path = str(ROOT / "deploy" / "gunicorn.conf.py")
    # DEBUG as the settings read it (django-environ): «ok» and «on» are on there too.
    cases = (("", True), ("0", True), ("false", True), ("1", False), ("ok", False), ("On", False))
    for debug, json_logs in cases:
        monkeypatch.setenv("DEBUG", debug)
        assert ("logconfig_dict" in runpy.run_path(path)) is json_logs, debug


def test_containers_of_the_image_that_serve_no_web_are_not_reported_unhealthy():
    # The image's HEALTHCHECK asks the local gunicorn for /healthz. The compose services that
    # run another command from the image (the migrations, the mailer, the sessions clean-up)
    # have no gunicorn: the check fails there, as it does here with nothing on the port, and
    # `docker compose ps` showed the mailer and clearsessions «unhealthy» for ever (a Swarm
    # would restart them every few minutes, the mailer in the middle of a send).
    check = subprocess.run(
        [sys.executable, "scripts/healthcheck.py"],
        cwd=ROOT,
        env={"PORT": str(free_port()), "ALLOWED_HOSTS": "localhost"},
        capture_output=True,
        check=False,
    )
    assert check.returncode == 1
    image_jobs = {
        name
        for name, body in compose_services().items()
        if "<<: *app" in body and "command:" in body
    }
    assert image_jobs == {"migrate", "clearsessions", "mailer"}
    disabled = re.compile(r"^    healthcheck:\n      disable: true\b", re.M)
    assert all(disabled.search(compose_services()[name]) for name in image_jobs)


def test_compose_services_stop_on_sigterm():
    """`docker compose stop` sends SIGTERM to the container's PID 1, which the kernel drops for
    a process that sets no handler: python's manage.py (mailer, migrate) and sh sleeping in
    scripts/clear-sessions ignored it, and were killed 10 s later. Docker's init (tini) takes
    PID 1 and hands the signal on. gunicorn handles it itself, but takes up to
    GUNICORN_GRACEFUL_TIMEOUT to finish its requests: Docker must wait that long."""
    services = compose_services()
    for name in ("migrate", "clearsessions", "mailer"):
        assert re.search(r"^    init: true\b", services[name], re.M), name
    assert "exec gunicorn" in (ROOT / "scripts" / "start-web").read_text()
    graceful = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))["graceful_timeout"]
    for name in ("web", "web-2"):
        grace = re.search(r"^    stop_grace_period: (\d+)s$", services[name], re.M)
        assert grace and int(grace.group(1)) > graceful, name


def test_the_compose_mailer_takes_its_server_and_sender_from_the_environment():
    # Only EMAIL_URL was passed on: its mails went out from webmaster@localhost, and the file
    # had to be edited to change that (check --deploy: omsportal.W003).
    mailer = compose_services()["mailer"]
    assert "EMAIL_URL: ${EMAIL_URL:-}" in mailer
    assert "DEFAULT_FROM_EMAIL: ${DEFAULT_FROM_EMAIL:-}" in mailer


def nginx_prefix_and_config() -> list[str]:
    """The -p and -c the compose file starts nginx with: where its pid file is."""
    command = re.search(r"^    command: (\[.*?\])$", compose_services()["nginx"], re.M | re.S)
    argv = json.loads(command.group(1))
    return argv[argv.index("-p") : argv.index("-c") + 2]


def test_every_nginx_reload_in_the_readme_finds_the_running_nginx():
    """The compose file starts nginx with `-p /var/cache/nginx/ -c …/nginx.conf`, whose pid file
    is relative to that prefix. A bare `nginx -s reload` reads the default configuration, looks
    for /var/run/nginx.pid and fails («open() … failed»): the deploy's reload after replacing an
    instance never happened, and nginx kept sending requests to the old container's address."""
    readme = (ROOT / "README.md").read_text()
    reloads = [line for line in readme.splitlines() if re.search(r"\bnginx\b.*-s reload", line)]
    assert len(reloads) >= 3  # two in «Deploy», one in «Caching»
    wanted = " ".join(nginx_prefix_and_config())
    assert wanted == "-p /var/cache/nginx/ -c /etc/nginx/omsportal/nginx.conf"
    for line in reloads:
        assert f"nginx {wanted} -s reload" in line, line


def readme_deploy_steps() -> list[str]:
    """The shell lines of README «Deploy», comments left out."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("**Deploy** a new version", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_a_deploy_replaces_every_service_that_runs_the_code():
    """Only web and web-2 were replaced: the mailer and the clean-up kept running the old
    release's code on the new schema (a dropped column: every pass of the mailer failed)."""
    services = compose_services()
    long_running = {
        name for name, body in services.items() if "<<: *app" in body and name != "migrate"
    }
    assert long_running == {"web", "web-2", "mailer", "clearsessions"}
    steps = readme_deploy_steps()
    migrate = steps.index("docker compose run --rm migrate")
    replaced = {
        name
        for step in steps[migrate + 1 :]
        if step.startswith("docker compose up -d --no-deps")
        for name in step.split()
        if name in services
    }
    assert replaced == long_running
    header = (ROOT / "docker-compose.yml").read_text().split("\n\n", 1)[0]
    assert "docker compose up -d --no-deps mailer clearsessions" in header
    # One image for all of them: what the deploy built is what each service runs.
    app = (ROOT / "docker-compose.yml").read_text().split("x-app: &app\n", 1)[1].split("\n\n")[0]
    assert re.search(r"^  image: \S+$", app, re.M)


def test_every_container_keeps_a_bounded_log_and_the_readme_says_how_much():
    """Docker's json-file driver keeps all a container renders unless given max-size: a year
    of request lines filled the disk under the database. Each service keeps 5 × 10 MB."""
    compose = (ROOT / "docker-compose.yml").read_text()
    logging = compose.split("x-logging: &logging\n", 1)[1].split("\n\n", 1)[0]
    assert logging.splitlines() == [
        "  driver: json-file",
        "  options:",
        '    max-size: "10m"',
        '    max-file: "5"',
    ]
    app = compose.split("x-app: &app\n", 1)[1].split("\n\n")[0]
    assert re.search(r"^  logging: \*logging$", app, re.M)
    for name, body in compose_services().items():
        from_app = re.search(r"^    <<: \*app$", body, re.M)
        assert from_app or re.search(r"^    logging: \*logging$", body, re.M), name
    logs = (ROOT / "README.md").read_text().split("**Logs** go to stdout", 1)[1]
    assert "at most 5 files of 10 MB" in logs.split("**Security headers**")[0]


def build_context() -> dict[str, int]:
    """The tracked files `docker build .` sends, with their sizes: .dockerignore's patterns
    as Docker reads them (relative to the root, a directory's pattern covers what is in it)."""
    patterns = [
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns)  # not handled here

    def ignored(path: str) -> bool:
        parts = path.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        for pattern in patterns:
            if pattern.startswith("**/"):
                tails = ["/".join(parts[n:]) for n in range(len(parts))]
                if any(fnmatch.fnmatchcase(tail, pattern[3:]) for tail in tails):
                    return True
            elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
                return True
        return False

    tracked = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607 (the tracked files: a clone has git)
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {
        path: (ROOT / path).stat().st_size
        for path in tracked.split("\0")
        if path and (ROOT / path).is_file() and not ignored(path)
    }


def test_the_build_context_holds_what_the_image_runs_and_not_the_screenshots():
    """docs/ (5 MB of screenshots) and the npm files of the test tools went into every
    build's context and into the image's /app."""
    context = build_context()
    assert not [path for path in context if path.startswith(("docs/", "node_modules/"))]
    assert "package.json" not in context and "package-lock.json" not in context
    for needed in ("requirements.txt", "manage.py", "scripts/start-web", "deploy/gunicorn.conf.py"):
        assert needed in context, needed
    assert any(path.startswith("static/css/") for path in context)
    # The image does not name them: npm is not in it, collectstatic reads static/ only.
    for left_out in ("docs", "package", "node_modules", "npm"):
        assert left_out not in DOCKERFILE
    assert sum(context.values()) < 3 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "value"), [("WEB_CONCURRENCY", "two"), ("GUNICORN_TIMEOUT", "30s"), ("PORT", "")]
)
def test_gunicorn_names_a_number_it_cannot_read(name, value):
    """int("two") stopped gunicorn with a trace ending in a bare ValueError, naming no
    variable (WEB_CONCURRENCY even before gunicorn read its config file). The image's start
    script stops before binding a port, with one line that names it."""
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    environment = {"PATH": path, "PORT": str(free_port()), name: value}
    result = subprocess.run(
        [ROOT / "scripts" / "start-web"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{name} is a whole number" in result.stderr
    assert f"not {value!r}." in result.stderr
    assert "Traceback" not in result.stderr
