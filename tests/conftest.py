import importlib
import os

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from tests.support import clear_caches


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Pages and data are cached across requests: no test may see another's.
    from django.contrib.contenttypes.models import ContentType

    clear_caches()
    # Content type ids are cached per process too; flushes by live-server tests (sequences
    # kept) and by `manage.py flush` in test_instances.py's subprocesses (sequences reset)
    # renumber the rows, and a stale id breaks the admin's LogEntry foreign key on PostgreSQL.
    ContentType.objects.clear_cache()
    yield
    clear_caches()


@pytest.fixture
def client():
    """A current browser on this site: its POSTs say they come from the same origin.

    Region choice is protected by that header rather than a CSRF token (regions/same_origin.py);
    tests of cross-site requests make their own clients.
    """
    return Client(headers={"Sec-Fetch-Site": "same-origin"})


@pytest.fixture
def content_editor(client, django_user_model):
    """A staff member given the role «Редакторы содержания» as README says: not a superuser."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    # The migration's group, made again by the migration's own code: tests that flush the
    # database (live servers) take it away.
    migration = importlib.import_module("regions.migrations.0009_content_editors_group")
    if not Group.objects.filter(name=migration.GROUP_NAME).exists():
        migration.create_group(apps, None)
    user = django_user_model.objects.create_user("redaktor", is_staff=True)
    user.groups.add(Group.objects.get(name="Редакторы содержания"))
    client.force_login(user)
    return client


SHIPPED_FIXTURES = ("regions.json", "subjects.json", "legal.json")
# The rows loaddata stored from SHIPPED_FIXTURES the first time in this process, per model in
# the order they were loaded: later tests get the same rows in one INSERT per model, not ~500
# statements of natural-key look-ups and saves (0.2 s, for some 600 tests a pass).
_shipped_rows: dict = {}


def _shipped_models():
    from legal.models import LegalAct, LegalProvision
    from regions.models import Region, Subject

    return (Region, Subject, LegalAct, LegalProvision)


@pytest.fixture
def regions(db):
    """The 23 regions of the shipped fixture, as the cached RegionIndex; with the 89 federal
    subjects (a question names a region by its subject's official name) and the shipped legal
    references the pages cite."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from regions.caching import bump_content_version
    from regions.models import Region

    models = _shipped_models()
    empty = not any(model.objects.exists() for model in models)
    if _shipped_rows and empty:
        with transaction.atomic():
            for model, rows in _shipped_rows.items():
                model.objects.bulk_create(model(**row) for row in rows)
            # Rows written with their ids: the next id PostgreSQL gives must come after them,
            # as loaddata sees to.
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
            bump_content_version()
    else:
        for fixture in SHIPPED_FIXTURES:
            call_command("loaddata", settings.BASE_DIR / "fixtures" / fixture, verbosity=0)
        if empty:
            _shipped_rows.update((model, list(model.objects.values())) for model in models)
    return Region.objects.index()


@pytest.fixture
def subjects(regions):
    """The 89 federal subjects of the shipped fixture (and the 23 regions), as the cached index."""
    from regions.models import Subject

    return Subject.objects.index()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The real Redis named by TEST_REDIS_URL (set by .ci/run), as redis://host:port without a
    database number; it must answer. Without it the tests that need Redis are skipped: they
    flush databases 5 to 11 of that Redis (and 12 on, one per pytest-xdist worker, with a
    Redis CACHE_URL), which must never be a developer's own Redis by accident.
    """
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        pytest.skip(
            "set TEST_REDIS_URL=redis://127.0.0.1:6379 to run the Redis tests "
            "(they flush databases 5 to 11 of it)"
        )
    redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    return url.rstrip("/")


@pytest.fixture
def uncollected_static(settings, tmp_path):
    """The production storage over a STATIC_ROOT that collectstatic never filled."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }


@pytest.fixture
def migrate(transactional_db):
    """``migrate(("app", "0001_…"))``: the test database to that migration, as ``manage.py
    migrate app 0001_…`` would; every migration again after the test. Going back also unapplies
    what depends on the target in other apps, and a later test in this process (the readiness
    probe's, which compares the database with the release) met a database behind the release."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    yield lambda target: MigrationExecutor(connection).migrate([target])
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
