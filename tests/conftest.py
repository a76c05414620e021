import pytest
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The region index and cached pages live in the cache: no test may see another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regions(db):
    call_command("loaddata", "fixtures/regions.json", verbosity=0)
    from regions.models import Region

    return Region.objects.index()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
