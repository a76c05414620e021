"""The version for visually impaired people, as a citizen switches it on and off."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import PHONE, turn_on_special_version

pytestmark = pytest.mark.browser


def body_font_px(page) -> float:
    page.wait_for_load_state()  # the stylesheets, not only the HTML
    return page.locator("body").evaluate("b => parseFloat(getComputedStyle(b).fontSize)")


def switch(page, button: str) -> None:
    page.get_by_role("link", name="Версия для слабовидящих").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Версия для слабовидящих")
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_switching_on_and_off_without_javascript(site, live_server):
    page = site(js=False)
    page.goto("/regions/tomsk-oblast/")
    normal = body_font_px(page)

    switch(page, "Включить версию для слабовидящих")

    expect(page).to_have_url(f"{live_server.url}/regions/tomsk-oblast/")
    assert body_font_px(page) >= 1.3 * normal
    page.get_by_role("link", name="Страховые представители Томской области").click()
    assert body_font_px(page) >= 1.3 * normal, "the choice did not persist to the next page"

    switch(page, "Обычная версия")

    expect(page).to_have_url(f"{live_server.url}/regions/tomsk-oblast/representatives/")
    assert body_font_px(page) == normal


def test_large_type_high_contrast_wide_spacing_no_images(site):
    page = site()
    page.goto("/zashchita-prav/")
    switch(page, "Включить версию для слабовидящих")

    style = page.evaluate(
        """() => {
            const body = getComputedStyle(document.body);
            const img = document.body.appendChild(document.createElement("img"));
            return {
                font: parseFloat(body.fontSize),
                lineHeight: parseFloat(body.lineHeight) / parseFloat(body.fontSize),
                letterSpacing: parseFloat(body.letterSpacing),
                color: body.color,
                background: body.backgroundColor,
                hotline: getComputedStyle(document.querySelector(".hotline")).backgroundColor,
                img: getComputedStyle(img).display,
            };
        }"""
    )
    assert style["font"] >= 22
    assert style["lineHeight"] >= 1.7
    assert style["letterSpacing"] > 0
    assert style["color"] == "rgb(0, 0, 0)"
    assert style["background"] == "rgb(255, 255, 255)"
    assert style["hotline"] == "rgb(0, 0, 0)"
    assert style["img"] == "none"


@pytest.mark.parametrize(
    "path", ["/", "/zashchita-prav/", "/regions/", "/regions/tomsk-oblast/representatives/"]
)
def test_special_version_passes_axe_and_fits_a_small_phone(site, path):
    page = site(viewport={"width": 320, "height": 640})
    turn_on_special_version(page)
    page.goto(path)

    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()
    assert page.evaluate(
        "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
    ), "sideways scroll at 320 px"
    small = page.evaluate(
        """() => [...document.querySelectorAll("header a, header button, main a, main button")]
            .filter(el => getComputedStyle(el).display !== "inline")
            .map(el => el.getBoundingClientRect())
            .filter(box => box.width && (box.width < 44 || box.height < 44)).length"""
    )
    assert small == 0


def test_the_control_is_on_every_page_and_returns_where_it_was(site, live_server):
    page = site(viewport=PHONE)
    for path in ["/", "/files/", "/regions/", "/no-such-page/"]:
        page.goto(path)
        expect(page.get_by_role("link", name="Версия для слабовидящих")).to_be_visible()
    page.goto("/files/")
    switch(page, "Включить версию для слабовидящих")
    expect(page).to_have_url(f"{live_server.url}/files/")


def test_the_hotline_stays_on_the_first_screen_of_a_phone(site):
    page = site(viewport=PHONE, is_mobile=True, has_touch=True)
    turn_on_special_version(page)
    page.goto("/zashchita-prav/")

    hotline = page.locator(".hotline").get_by_role("link", name="8 (800) 333-60-03")
    box = hotline.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"]
    assert box["x"] + box["width"] <= PHONE["width"]
