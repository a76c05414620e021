import pytest
from django.conf import settings
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
    """The 23 regions of the shipped fixture, as the cached RegionIndex."""
    from regions.models import Region

    call_command("loaddata", settings.BASE_DIR / "fixtures" / "regions.json", verbosity=0)
    return Region.objects.index()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
