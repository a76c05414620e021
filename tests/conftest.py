from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _empty_cache():
    # Pages and data are cached across requests: no test may see another's.
    from omsportal.caching import forget_local_copies

    cache.clear()
    forget_local_copies()
    yield
    cache.clear()
    forget_local_copies()


@pytest.fixture
def regions(db):
    call_command("loaddata", FIXTURES / "regions.json", verbosity=0)
    from regions.models import Region

    return Region.objects.index()
