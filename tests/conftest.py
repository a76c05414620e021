import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command


@pytest.fixture(autouse=True)
def _clear_cache():
    # Region.objects.index() is cached: no test may see another test's regions.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regions(db):
    """The 23 regions of the shipped fixture, as the cached RegionIndex."""
    from regions.models import Region

    call_command("loaddata", settings.BASE_DIR / "fixtures" / "regions.json", verbosity=0)
    return Region.objects.index()
