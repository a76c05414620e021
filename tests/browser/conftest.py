"""Front-end checks: journeys in Chromium (Playwright), axe-core, the W3C Nu HTML checker.

Chromium is Debian's (/usr/bin/chromium): Playwright cannot download its own browsers here.
Without it `make test` skips the browser tests and says so; with REQUIRE_BROWSER=1 (CI) a
missing Chromium or Nu checker fails the run instead.
"""

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

# Playwright's sync API runs an event loop in this thread; Django would refuse its ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
REGIONS_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "regions.json"
PHONE = {"width": 360, "height": 640}


def pytest_collection_modifyitems(config, items):
    if REQUIRED or Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: browser tests skipped")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} and REQUIRE_BROWSER=1", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def regions(transactional_db):
    call_command("loaddata", REGIONS_FIXTURE, verbosity=0)
    cache.clear()


@pytest.fixture
def site(live_server, regions, new_context):
    """Opens pages of the live site: ``site(js=False, viewport=PHONE)`` gives a new page."""

    def open_page(*, js: bool = True, viewport: dict | None = None, **context_args):
        context = new_context(
            base_url=live_server.url,
            java_script_enabled=js,
            viewport=viewport or {"width": 1280, "height": 800},
            **context_args,
        )
        return context.new_page()

    return open_page


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request):
    return request.param
