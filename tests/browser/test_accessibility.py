"""axe-core on every public page template, and the keyboard-only journey."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import turn_on_special_version

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "rights": "/zashchita-prav/",
    "region list": "/regions/",
    "region": "/regions/tomsk-oblast/",
    "representatives": "/regions/tomsk-oblast/representatives/",
    "files": "/files/",
    "special version settings": "/special/",
    "privacy": "/konfidencialnost/",
    "not found": "/no-such-page/",
    "file no longer published": "/files/999999/",
}


def assert_no_axe_violations(page):
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_axe_violations(site, content, path):
    page = site()
    page.goto(path)
    assert_no_axe_violations(page)


def test_bad_region_page_has_no_axe_violations(site, regions):
    page = site()
    page.goto("/regions/")
    # A stale or forged form: the region it names does not exist.
    choice = page.get_by_role("button", name="Город Москва")
    choice.evaluate("button => button.value = 'atlantis'")
    choice.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Такого региона нет в списке")
    assert_no_axe_violations(page)


def test_stale_form_page_has_no_axe_violations(site, regions):
    page = site()
    page.goto("/admin/login/")  # the forms that keep Django's token, e.g. staff login
    page.context.clear_cookies()  # the form's CSRF cookie expired or was blocked
    page.get_by_label("Имя пользователя").fill("editor")
    page.get_by_label("Пароль").fill("пароль")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Форма устарела")
    assert_no_axe_violations(page)


def focused(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {
                text: el.innerText.trim(),
                tag: el.tagName.toLowerCase(),
                outline: style.outlineStyle !== "none" ? parseFloat(style.outlineWidth) : 0,
                inView: box.bottom > 0 && box.top < innerHeight && box.width > 0,
            };
        }"""
    )


def tab_to(page, text: str, *, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["text"] == text:
            return
    raise AssertionError(f"«{text}» cannot be reached with Tab")


def press_enter_and_wait(page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_skip_link_is_the_first_stop_and_jumps_to_the_content(site):
    page = site()
    page.goto("/zashchita-prav/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к основному содержанию")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page.locator("main#main-content")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize("special", [False, True], ids=["normal", "special-version"])
def test_every_tab_stop_shows_where_the_focus_is(site, content, special):
    page = site()
    if special:
        turn_on_special_version(page)
    page.goto("/zashchita-prav/")
    seen = []
    for _ in range(80):
        page.keyboard.press("Tab")
        stop = focused(page)
        if stop["tag"] == "body" or (seen and stop == seen[0]):
            break
        seen.append(stop)
        assert stop["outline"] >= 2, f"no visible focus on «{stop['text']}»"
        assert stop["inView"], f"«{stop['text']}» is focused but scrolled out of view"
    assert len(seen) > 15


def test_the_region_journey_works_with_the_keyboard_alone(site, live_server):
    page = site()
    page.goto("/zashchita-prav/")

    tab_to(page, "Выбрать другой")
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Выберите свой регион")
    # Three stops a row (choose, the region page, its representatives): 22nd in the list.
    tab_to(page, "Томская область", limit=90)
    press_enter_and_wait(page)
    expect(page.locator(".region-current")).to_contain_text("Ваш регион: Томская область")

    tab_to(page, "Ваш страховой представитель")
    press_enter_and_wait(page)
    expect(page).to_have_url(f"{live_server.url}/regions/tomsk-oblast/representatives/")


def test_the_prompt_can_be_answered_with_the_keyboard(site):
    page = site()
    page.goto("/")
    tab_to(page, "Да, верно")
    press_enter_and_wait(page)
    expect(page.get_by_text("Ваш регион\u00a0— город Москва?")).to_have_count(0)
    expect(page.locator(".region-current")).to_contain_text("Ваш регион: Город Москва")
