"""What the README's «Operations» section tells an operator to do, done here."""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import serializers, signing
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.utils import timezone

from tests.factories import PDF_BYTES, WORKDAYS, make_company, make_representative, registry_file
from tests.support import clear_caches, settings_json

ROOT = Path(__file__).resolve().parents[1]
# The content staff edit; users and sessions are backed up with the whole database.
CONTENT_APPS = ("regions", "representatives", "legal", "company")
# Bookkeeping, not content: the number cached pages are keyed by (regions/caching.py).
NOT_CONTENT = "regions.ContentVersion"


def content_models():
    return [
        model
        for label in CONTENT_APPS
        for model in apps.get_app_config(label).get_models()
        if model._meta.label != NOT_CONTENT
    ]


def snapshot() -> list[str]:
    """Every row of the content apps, compared by natural keys rather than primary keys.

    Times to the millisecond: what dumpdata's JSON keeps (DjangoJSONEncoder).
    """
    rows = []
    for model in content_models():
        for row in serializers.serialize(
            "python",
            model.objects.all(),
            use_natural_foreign_keys=True,
            use_natural_primary_keys=True,
        ):
            rows.append(json.dumps(row, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False))
    return sorted(rows)


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_into_an_empty_database_loses_nothing(
    regions, subjects, media_root, tmp_path
):
    tomsk = regions.by_slug["tomsk-oblast"]
    registry_file(region=tomsk)
    registry_file(title="Базовая программа ОМС", kind="programme")
    make_representative(tomsk, hours=WORKDAYS, email="office@example.ru")
    make_company(name="Пример-Мед (тест)")
    for label in CONTENT_APPS[1:]:
        shipped = ROOT / "fixtures" / f"{label}.json"
        if shipped.exists():
            call_command("loaddata", shipped, verbosity=0)
    before = snapshot()
    assert all(model.objects.exists() for model in content_models())  # every kind of row

    backup = tmp_path / "content.json"
    call_command(
        "dumpdata",
        *CONTENT_APPS,
        exclude=[NOT_CONTENT],
        natural_foreign=True,
        natural_primary=True,
        indent=1,
        output=backup,
        verbosity=0,
    )
    call_command("flush", interactive=False, verbosity=0)
    assert snapshot() == []
    clear_caches()

    call_command("loaddata", backup, verbosity=0)
    assert snapshot() == before


def readme_commands(*starts: str) -> list[str]:
    """The README's shell lines that begin so, as an operator would copy them."""
    readme = (ROOT / "README.md").read_text()
    lines = [line.split("  #")[0].strip() for line in readme.splitlines()]
    return [next(line for line in lines if line.startswith(start)) for start in starts]


def test_the_uploads_backed_up_as_the_readme_says_are_restored_as_it_says(
    client, regions, settings, tmp_path
):
    """The README gave `tar czf` for the uploads and no way back."""
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    item = registry_file(region=regions.by_slug["tomsk-oblast"])
    backup, restore = readme_commands("tar czf media.tgz", "rm -rf var/media && tar xzf")
    subprocess.run(backup, shell=True, cwd=tmp_path, check=True)  # noqa: S602 (the README's)
    shutil.rmtree(settings.MEDIA_ROOT)
    (settings.MEDIA_ROOT / "stray").mkdir(parents=True)  # what the volume held since

    subprocess.run(restore, shell=True, cwd=tmp_path, check=True)  # noqa: S602
    clear_caches()
    response = client.get(f"/files/{item.pk}/")
    assert response.status_code == 200
    assert response.getvalue() == PDF_BYTES
    assert sorted(p.name for p in settings.MEDIA_ROOT.iterdir()) == [Path(item.file.name).parts[0]]


def test_the_readme_stops_the_instances_before_pg_restore():
    """pg_restore --clean drops every table under the instances still serving."""
    readme = (ROOT / "README.md").read_text()
    restore = readme.index("pg_restore --clean")
    stops = [m.start() for m in re.finditer(r"docker compose stop web web-2", readme)]
    assert "with the web instances, the mailer and the clean-up stopped" in readme[:restore]
    assert stops and all(stop < readme.index("pg_restore --clean", stop) for stop in stops)


def test_the_compose_files_loaddata_warns_that_a_second_load_overwrites_staff_edits():
    header = (ROOT / "docker-compose.yml").read_text().split("\n\n", 1)[0]
    load = header.index("manage.py loaddata")
    assert "puts the fixtures' values back over what\n#     staff have entered" in header[load:]


@pytest.mark.django_db
def test_rotating_the_secret_key_keeps_everyone_logged_in(regions, settings):
    old, new = "old-key-" + "a1b2c3d4" * 7, "new-key-" + "e5f6g7h8" * 7
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = old, []
    staff = get_user_model().objects.create_superuser("editor", "e@example.ru", "пароль-2026")
    visits_during_rotation, stays_away = Client(), Client()
    visits_during_rotation.force_login(staff)
    stays_away.force_login(staff)
    signed = signing.dumps({"region": "70"})

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = new, [old]
    clear_caches()  # sessions are read back from the database, signed with the old key
    assert visits_during_rotation.get("/admin/", secure=True).status_code == 200
    assert signing.loads(signed) == {"region": "70"}

    # Once the old key is dropped, only sessions used meanwhile (re-signed) remain: the
    # fallback is what kept everyone logged in, for as long as it stays.
    settings.SECRET_KEY_FALLBACKS = []
    clear_caches()
    assert visits_during_rotation.get("/admin/", secure=True).status_code == 200
    assert stays_away.get("/admin/", secure=True).status_code == 302


@pytest.mark.django_db
def test_clearsessions_removes_only_expired_sessions():
    expired, current = SessionStore(), SessionStore()
    expired["region"] = current["region"] = "77"
    expired.set_expiry(timezone.now() - timedelta(days=1))
    expired.save()
    current.save()

    call_command("clearsessions")

    assert list(Session.objects.values_list("session_key", flat=True)) == [current.session_key]


def test_the_readmes_delete_of_this_sites_redis_keys_works_with_the_default_prefix(
    redis_server, tmp_path
):
    """After a restore, README deletes this site's keys from a Redis database shared with other
    sites. With CACHE_KEY_PREFIX unset (the settings' default) the pattern was «:*»: nothing
    deleted, and pages cached before the restore matched again."""
    if not shutil.which("redis-cli"):
        pytest.skip("redis-cli is not installed")
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(r"`(redis-cli -u [^`]*--scan[^`]*)`", readme)
    cache_url = f"{redis_server}/6"  # no other module uses database 6
    prefix = settings_json(
        "print(json.dumps(settings.CACHES['default']['KEY_PREFIX']))", CACHE_URL=cache_url
    )
    server = redis.Redis.from_url(cache_url)
    server.flushdb()
    ours = [f"{prefix}:1:django.contrib.sessions.cache{n}" for n in range(3)]
    theirs = "othersite:1:django.contrib.sessions.cacheabc"
    for key in [*ours, theirs]:
        server.set(key, b"x")
    try:
        environment = {"PATH": os.environ["PATH"], "CACHE_URL": cache_url}  # no prefix set
        subprocess.run(command, shell=True, cwd=tmp_path, env=environment, check=True)  # noqa: S602
        assert server.exists(*ours) == 0
        assert server.exists(theirs) == 1
    finally:
        server.flushdb()


def test_the_compose_secret_key_is_written_once_into_a_file_kept_out_of_git_and_the_image(
    tmp_path,
):
    """README had `export SECRET_KEY=$(…)` before `docker compose up`: a new key in each shell,
    so an instance started from another shell refused the others' appeal forms (the signed
    opening time: «Страница с формой устарела»), sessions and staff logins."""
    readme = (ROOT / "README.md").read_text()
    assert "export SECRET_KEY" not in readme
    (command,) = readme_commands("[ -f .env ] ||")
    environment = {"PATH": os.environ["PATH"]}
    subprocess.run(command, shell=True, cwd=tmp_path, env=environment, check=True)  # noqa: S602
    written = (tmp_path / ".env").read_text()
    key = re.fullmatch(r"SECRET_KEY=(\S{50,})\nSITE_URL=http://localhost:8000\n", written)
    assert key, written
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # the owner's only
    subprocess.run(command, shell=True, cwd=tmp_path, env=environment, check=True)  # noqa: S602
    assert (tmp_path / ".env").read_text() == written  # once: the next run keeps it
    for ignore in (".gitignore", ".dockerignore"):
        assert ".env" in (ROOT / ignore).read_text().split(), ignore
    header = (ROOT / "docker-compose.yml").read_text().split("\n\n", 1)[0]
    assert "> .env" in header and "SECRET_KEY=$(" not in header.replace("'SECRET_KEY=%s", "")


def test_the_scripts_run_outside_the_image_as_the_readme_says(tmp_path):
    """scripts/clear-sessions and scripts/start-web call python and gunicorn by name: found
    in the image (/opt/venv/bin on its PATH), «not found» on a host without the virtualenv's
    bin on PATH. And gunicorn's default 0.0.0.0 on a host would face clients past nginx."""
    start, clear = readme_commands("PATH=$PWD/.venv/bin:$PATH", "CLEARSESSIONS_INTERVAL=0 PATH=")
    venv_bin = Path(sys.executable).parent
    assert venv_bin == ROOT / ".venv" / "bin"  # what $PWD/.venv/bin names from the project
    system_path = "/usr/local/bin:/usr/bin:/bin"
    environment = {
        "PATH": system_path,
        "PWD": str(ROOT),
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "LOG_FORMAT": "text",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    ran = subprocess.run(  # noqa: S602 (the README's)
        clear, shell=True, cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert "Очищено обращений: 0" in ran.stdout
    if not shutil.which("python", path=system_path):  # the host's PATH alone: no python
        bare = subprocess.run(
            ["scripts/clear-sessions"],  # noqa: S607
            cwd=ROOT,
            env=environment | {"CLEARSESSIONS_INTERVAL": "0"},
            capture_output=True,
            text=True,
        )
        assert bare.returncode == 1 and "not found" in bare.stderr
    # The web process as README starts it: bound to the loopback interface only.
    assignments = dict(word.split("=", 1) for word in start.split()[:-1])
    assert assignments["PATH"] == "$PWD/.venv/bin:$PATH" and start.endswith(" scripts/start-web")
    bind = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy; print(runpy.run_path('deploy/gunicorn.conf.py')['bind'])",
        ],
        cwd=ROOT,
        env={"PATH": system_path, "HOST": assignments["HOST"], "PORT": assignments["PORT"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert bind.stdout.strip() == "['127.0.0.1:8000']"
