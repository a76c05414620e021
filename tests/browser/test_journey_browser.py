"""«Я не в своём регионе» as citizens use it: on a phone, with JavaScript on and off."""

import re

import pytest
from playwright.sync_api import expect

from .test_accessibility import assert_no_axe_violations
from .test_html_valid import checker, nu_errors
from .test_phone import NO_SIDEWAYS_SCROLL, SMALL_TARGETS, SMALLEST_TEXT

pytestmark = pytest.mark.browser

# A common phone: two screens of it are what a person in a hurry reads.
TALL_PHONE = {"width": 360, "height": 740}
TOMSK = "/v-drugom-regione/moscow/tomsk-oblast/"
KRASNODAR = "/v-drugom-regione/perm-krai/krasnodar-krai/"
OTHER = "/v-drugom-regione/other-region/north-ossetia-alania/"
AT_HOME = "/v-drugom-regione/tomsk-oblast/tomsk-oblast/"
VARIANTS = {"tomsk": TOMSK, "krasnodar": KRASNODAR, "other-region": OTHER, "at-home": AT_HOME}


def answer(page, *, policy: str, place: str) -> None:
    page.get_by_label("Где выдан ваш полис ОМС?").select_option(label=policy)
    page.get_by_label("Где вы сейчас?").select_option(label=place)
    page.get_by_role("button", name="Показать, что делать").click()
    page.wait_for_load_state()


def bottom(locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "not shown"
    return box["y"] + box["height"]


def test_a_muscovite_in_tomsk_finds_help_within_two_phone_screens(
    site, js, content, subjects, live_server
):
    page = site(js=js, viewport=TALL_PHONE, is_mobile=True, has_touch=True)
    page.goto("/")
    page.locator(".site-nav").get_by_text("Меню").click()  # folded on a phone
    page.locator(".site-nav").get_by_role("link", name="Я не в своём регионе").click()
    answer(page, policy="Город Москва", place="Томская область")

    expect(page).to_have_url(f"{live_server.url}{TOMSK}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Полис выдан в городе Москве, вы в Томской области"
    )
    screen = TALL_PHONE["height"]
    ambulance = page.locator("main").get_by_role("link", name="103")
    expect(ambulance).to_have_attribute("href", "tel:103")
    assert bottom(ambulance) <= screen, "103 is below the first screen"
    assert bottom(page.locator("main").get_by_role("link", name="112")) <= screen
    fund = page.get_by_text("Территориальный фонд ОМС Томской области (тест)")
    assert bottom(fund) <= 2 * screen, "the ТФОМС is below the second screen"
    refused = page.get_by_role("heading", name="Если отказали в помощи")
    assert bottom(refused) <= 2 * screen, "the steps if refused start below the second screen"
    steps = page.locator("ol.steps li")
    expect(steps).to_have_count(4)
    expect(steps.first).to_contain_text("К главному врачу")
    assert steps.first.bounding_box()["y"] < 2 * screen, "the first step starts below"


def test_a_perm_policy_in_krasnodar_gets_the_place_and_the_home_contacts(site, js, subjects):
    page = site(js=js)
    page.goto("/regions/")
    page.get_by_role("link", name="Я не в своём регионе").last.click()
    answer(page, policy="Пермский край", place="Краснодарский край")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Полис выдан в Пермском крае, вы в Краснодарском крае"
    )
    expect(page.get_by_role("heading", name="Куда обратиться в Краснодарском крае")).to_be_visible()
    call = page.get_by_role("heading", name="Кому звонить в регионе, где выдан полис")
    expect(call).to_be_visible()
    page.get_by_role("link", name="Все страховые представители Пермского края").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Страховые представители Пермского края")


def test_a_policy_from_another_region_is_answered_honestly(site, js, subjects):
    page = site(js=js)
    page.goto("/v-drugom-regione/")
    answer(
        page,
        policy="Другая страховая компания или другой регион",
        place="Республика Северная Осетия — Алания",
    )

    expect(page).to_have_url(re.compile(re.escape(OTHER) + "$"))
    expect(page.get_by_text("Мы не знаем, какая страховая компания выдала")).to_be_visible()
    expect(page.locator("main").get_by_role("link", name="103")).to_be_visible()


def test_at_home_the_answer_is_the_in_region_version(site, js, content, subjects):
    page = site(js=js)
    page.goto("/v-drugom-regione/")
    answer(page, policy="Томская область", place="Томская область")

    expect(page.get_by_role("heading", level=1)).to_have_text("Вы в своём регионе: Томская область")
    registry = page.get_by_role("link", name="Реестр медицинских организаций Томской области")
    expect(registry).to_be_visible()
    expect(page.get_by_text("по времени Томской области")).to_have_count(0)


def test_the_confirmed_region_is_already_chosen_in_the_form(site, js, subjects):
    page = site(js=js)
    page.goto("/regions/?next=/v-drugom-regione/")
    page.get_by_role("button", name="Пермский край").click()
    expect(page.get_by_label("Где выдан ваш полис ОМС?")).to_have_value("perm-krai")


def test_an_unknown_pair_leads_back_to_the_form(site, js, subjects):
    page = site(js=js)
    page.goto("/v-drugom-regione/moscow/atlantis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Такой пары регионов нет")
    page.get_by_role("link", name="Выбрать регионы заново").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Я не в своём регионе")
    # The half of the address that was right is chosen; only the other is asked again.
    expect(page.get_by_label("Где выдан ваш полис ОМС?")).to_have_value("moscow")
    expect(page.get_by_label("Где вы сейчас?")).to_have_value("")


PAGES = {"form": "/v-drugom-regione/", **VARIANTS}


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_journey_pages_have_no_axe_violations(site, content, subjects, path):
    page = site()
    page.goto(path)
    assert_no_axe_violations(page)


def test_journey_pages_are_valid_html(client, content, subjects, tmp_path):
    command = checker()
    pages = {
        **PAGES,
        "not-found": "/v-drugom-regione/moscow/atlantis/",
        "change": f"{KRASNODAR}izmenit/",
    }
    for name, path in pages.items():
        (tmp_path / f"{name}.html").write_bytes(client.get(path).content)
    (tmp_path / "form-errors.html").write_bytes(
        client.get("/v-drugom-regione/otvet/", {"policy": "moscow"}).content
    )
    errors = nu_errors(command, sorted(tmp_path.glob("*.html")))
    assert errors == [], "\n".join(errors)


# One sheet to take to the clinic; at home all three levels of contacts may need a second.
SHEETS = {"tomsk": 1, "krasnodar": 1, "other-region": 1, "at-home": 2}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_answer_prints_on_one_a4_page_without_navigation(site, content, subjects, variant):
    path = VARIANTS[variant]
    page = site()
    page.goto(path)
    page.emulate_media(media="print")
    for selector in [".site-nav", ".special-link", ".share", ".site-footer"]:
        expect(page.locator(selector)).to_be_hidden()
    expect(page.locator(".notice--emergency")).to_contain_text("103")
    pdf = page.pdf(format="A4")
    sheets = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert sheets <= SHEETS[variant], f"{sheets} A4 pages"


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_journey_pages_fit_a_320_px_phone_with_big_enough_targets(site, content, subjects, path):
    page = site(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page.goto(path)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scroll at 320 px"
    assert page.evaluate(SMALL_TARGETS) == []
    assert page.evaluate(SMALLEST_TEXT) >= 14
    page.set_viewport_size({"width": 640, "height": 400})  # 1280 px at 200% zoom
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scroll at 200% zoom"
