"""What a phone shows before any scrolling, in both versions, with JavaScript on and off: the
page's heading, the hotline to tap, the start of the emergency notice, a short region prompt,
the first question of a form, home's way into the journey."""

import pytest
from playwright.sync_api import expect

from .conftest import turn_on_special_version

pytestmark = pytest.mark.browser

SCREENS = {"360x740": (360, 740), "320x640": (320, 640)}
KEY_PAGES = {
    "home": "/",
    "rights": "/zashchita-prav/",
    "region list": "/regions/",
    "representatives": "/regions/tomsk-oblast/representatives/",
    # The region prompt asked the form's first question over it, and on a 320 × 640 phone
    # pushed every field below the first screen.
    "journey form": "/v-drugom-regione/",
}
WITH_EMERGENCY = {"/", "/zashchita-prav/"}
WITH_FORM = {"/v-drugom-regione/"}
# Below the emergency notice, a 320 px phone reached it two screens down.
WITH_JOURNEY = {"/"}
# Enough of a block to read its first line: the box's top plus a line of large type.
FIRST_LINE = 44

POSITIONS = """() => {
    const box = selector => {
        const el = document.querySelector(selector);
        if (!el || !el.getClientRects().length) return null;
        const r = el.getBoundingClientRect();
        return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right};
    };
    return {
        heading: box("main h1"),
        hotline: box(".hotline .hotline__phone"),
        emergency: box("main .notice--emergency"),
        prompt: box(".region-prompt"),
        menu: box(".site-nav__toggle"),
        field: box("main form .field"),
        journey: box('main a.button[href="/v-drugom-regione/"]'),
    };
}"""


@pytest.fixture(params=["normal", "special"])
def version(request):
    return request.param


@pytest.mark.parametrize("path", KEY_PAGES.values(), ids=KEY_PAGES.keys())
@pytest.mark.parametrize("screen", SCREENS, ids=SCREENS.keys())
def test_the_first_screen_answers(site, content, js, version, screen, path):
    width, height = SCREENS[screen]
    page = site(js=js, viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    if version == "special":
        turn_on_special_version(page, path)
    else:
        page.goto(path)
    page.wait_for_load_state()
    at = page.evaluate(POSITIONS)

    assert at["heading"]["top"] + FIRST_LINE <= height, f"heading starts at {at['heading']}"
    hotline = at["hotline"]
    assert hotline["bottom"] <= height and hotline["right"] <= width, f"hotline at {hotline}"
    expect(page.locator(".hotline .hotline__phone")).to_have_attribute("href", "tel:+78003336003")
    # The menu is folded behind «Меню» on a phone, and opens without JavaScript.
    assert at["menu"] and at["menu"]["bottom"] <= height
    expect(page.locator(".site-nav").get_by_role("link", name="Главная")).to_be_hidden()
    if at["prompt"]:
        assert at["prompt"]["bottom"] - at["prompt"]["top"] <= height / 3, at["prompt"]
    if path in WITH_EMERGENCY and screen == "360x740":
        assert at["emergency"]["top"] + FIRST_LINE <= height, f"emergency at {at['emergency']}"
    if path in WITH_FORM:
        assert at["field"]["top"] + FIRST_LINE <= height, f"first question at {at['field']}"
    if path in WITH_JOURNEY:
        assert at["journey"]["top"] + FIRST_LINE <= height, f"journey link at {at['journey']}"


def test_the_menu_opens_without_javascript_and_lists_every_section(site):
    page = site(js=False, viewport={"width": 360, "height": 740})
    page.goto("/zashchita-prav/")
    page.get_by_text("Меню", exact=True).click()
    nav = page.get_by_role("navigation", name="Разделы сайта")
    names = ["Главная", "Что даёт полис ОМС", "Регионы и представители", "Написать обращение"]
    for name in names:
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    nav.get_by_role("link", name="Главная").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Полис ОМС действует во всей России")


def test_a_wide_screen_shows_the_menu_unfolded(site):
    page = site(viewport={"width": 1280, "height": 800})
    page.goto("/")
    expect(page.get_by_text("Меню", exact=True)).to_be_hidden()
    expect(
        page.get_by_role("navigation", name="Разделы сайта").get_by_role("link", name="Главная")
    ).to_be_visible()
