"""Front-end checks: journeys in Chromium (Playwright), axe-core, the W3C Nu HTML checker.

Chromium is Debian's (/usr/bin/chromium): Playwright cannot download its own browsers here.
Without it `make test` skips the browser tests and says so; with REQUIRE_BROWSER=1 (CI) a
missing Chromium or Nu checker fails the run instead.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command

from regions.models import Region, RegistryFile
from tests.support import clear_caches

from ..factories import WORKDAYS, make_company, make_representative

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


@pytest.fixture
def content(regions):
    """Pages as full as they get: contacts and representatives of all three levels of a
    region, national and regional files. Obviously fictitious values, as in factories.py."""
    Region.objects.filter(slug="tomsk-oblast").update(
        tfoms_name="Территориальный фонд ОМС Томской области (тест)",
        tfoms_phone="8 (3822) 20-00-00",
        tfoms_site="https://tfoms.example.ru/",
        tfoms_address="г. Томск, ул. Тестовая, 2",
        health_name="Орган здравоохранения Томской области (тест)",
        health_phone="8 (3822) 20-00-01",
        health_site="https://zdrav.example.ru/",
        health_address="г. Томск, ул. Тестовая, 3",
    )
    tomsk = Region.objects.get(slug="tomsk-oblast")
    for title, kind, region in [
        ("Базовая программа ОМС", RegistryFile.Kind.BASE_PROGRAMME, None),
        ("Реестр медицинских организаций", RegistryFile.Kind.MEDICAL_ORGS, None),
        ("Реестр медицинских организаций Томской области", RegistryFile.Kind.MEDICAL_ORGS, tomsk),
    ]:
        RegistryFile.objects.create(
            title=title, kind=kind, region=region, file=ContentFile(b"%PDF-1.4\n", name="f.pdf")
        )
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "representatives.json", verbosity=0)
    make_representative(
        tomsk,
        level=2,
        role="Страховой представитель второго уровня (тест)",
        # An extension, as the model allows: with it the large-print version scrolled sideways.
        phones="8 (3822) 20-00-02, доб. 123",
        email="test@example.com",
        address="г. Томск, ул. Тестовая, 1",
        hours=WORKDAYS,
    )
    make_representative(tomsk, level=3, role="Страховой представитель третьего уровня (тест)")
    make_company()
    clear_caches()  # the region index was cached before the contacts changed


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


def turn_on_special_version(page, path: str = "/special/") -> None:
    page.goto(path)
    page.get_by_role("button", name="Версия для слабовидящих").click()
    page.wait_for_load_state()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request):
    return request.param
