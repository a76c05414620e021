"""The journeys a citizen makes, each with JavaScript on and off."""

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from regions.models import RegistryFile

from .conftest import PHONE

pytestmark = pytest.mark.browser

PROMPT = "Ваш регион\u00a0— город Москва?"
# A small but real PDF: one empty A4 page.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def test_confirming_the_suggested_region_hides_the_prompt(site, js):
    page = site(js=js)
    page.goto("/zashchita-prav/")
    expect(page.get_by_text(PROMPT)).to_be_visible()

    page.get_by_role("button", name="Да, верно").click()

    expect(page).to_have_url(re.compile(r"/zashchita-prav/$"))
    expect(page.get_by_text(PROMPT)).to_have_count(0)
    expect(page.locator(".region-current")).to_contain_text("Ваш регион: Город Москва")
    page.get_by_role("link", name="Главная").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Полис ОМС действует во всей России")
    expect(page.get_by_text(PROMPT)).to_have_count(0)


def test_choosing_another_region_returns_to_the_same_page(site, js, live_server):
    page = site(js=js)
    page.goto("/zashchita-prav/")

    page.get_by_role("link", name="Выбрать другой").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Выберите свой регион")
    page.get_by_role("button", name="Томская область").click()

    expect(page).to_have_url(f"{live_server.url}/zashchita-prav/")
    expect(page.get_by_text(PROMPT)).to_have_count(0)
    expect(page.locator(".region-current")).to_contain_text("Ваш регион: Томская область")


def test_rights_page_leads_to_the_representatives_of_the_chosen_region(site, js, live_server):
    page = site(js=js)
    page.goto("/regions/?next=/zashchita-prav/")
    page.get_by_role("button", name="Томская область").click()
    expect(page).to_have_url(f"{live_server.url}/zashchita-prav/")

    page.get_by_role("link", name="Ваш страховой представитель").click()

    expect(page).to_have_url(f"{live_server.url}/regions/tomsk-oblast/representatives/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Страховые представители Томской области"
    )


def test_a_newcomer_chooses_their_region_before_it_is_called_theirs(site, js, live_server):
    page = site(js=js)
    page.goto("/zashchita-prav/")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Ваш страховой представитель")).to_have_count(0)

    main.get_by_role("link", name="Выбрать регион", exact=True).click()
    page.get_by_role("button", name="Пермский край").click()

    expect(page).to_have_url(f"{live_server.url}/zashchita-prav/")
    page.get_by_role("main").get_by_role("link", name="Ваш страховой представитель").click()
    expect(page).to_have_url(f"{live_server.url}/regions/perm-krai/representatives/")


def test_choosing_ones_region_from_anothers_representatives_shows_ones_own(site, js, live_server):
    page = site(js=js)
    page.goto("/regions/moscow/representatives/")

    page.get_by_role("link", name="Выбрать свой регион").click()
    page.get_by_role("button", name="Томская область").click()

    expect(page).to_have_url(f"{live_server.url}/regions/tomsk-oblast/representatives/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Страховые представители Томской области"
    )


def test_a_registry_file_downloads_under_its_russian_name(site, js, tmp_path):
    RegistryFile.objects.create(
        title="Базовая программа ОМС на 2026 год",
        kind=RegistryFile.Kind.BASE_PROGRAMME,
        file=ContentFile(PDF, name="programme-2026.pdf"),
    )
    page = site(js=js)
    page.goto("/zashchita-prav/")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Базовая программа ОМС на 2026 год").click()

    download = download_info.value
    assert download.suggested_filename == "Базовая программа ОМС на 2026 год.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert Path(saved).read_bytes() == PDF


@pytest.mark.parametrize(
    "path", ["/", "/zashchita-prav/", "/regions/tomsk-oblast/representatives/"]
)
def test_the_hotline_is_one_tap_away_on_a_phone(site, js, path):
    page = site(js=js, viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(path)

    hotline = page.locator(".hotline").get_by_role("link", name="8 (800) 333-60-03")
    expect(hotline).to_have_attribute("href", "tel:+78003336003")
    expect(page.locator(".hotline")).to_contain_text("Единая «горячая линия»")
    expect(page.locator(".hotline")).to_have_css("background-color", "rgb(11, 83, 148)")
    box = hotline.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], "below the first screen"
