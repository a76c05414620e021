"""Old phones lay flex items out without gap (iOS Safari 14.0 and older, Chrome before 84):
there «О регионеПредставители» read as one link, «Да, верно» touched «Выбрать другой» and
the appeal's radio buttons touched their words. Chromium plays such a phone here with every
gap set to 0: what stays apart is spaced by margins, which every browser knows."""

import pytest

pytestmark = pytest.mark.browser

NO_GAP = "*, *::before, *::after { gap: 0 !important; }"
# Enough to see two things as two.
APART = 4

# Between consecutive boxes: [across, distance], across if they share a line, else down.
DISTANCES = """selector => {
    const boxes = [...document.querySelectorAll(selector)]
        .filter(el => el.getClientRects().length)
        .map(el => el.getBoundingClientRect());
    return boxes.slice(1).map((box, i) => {
        const before = boxes[i];
        const across = before.top < box.bottom && box.top < before.bottom;
        return [across, Math.round(across ? box.left - before.right : box.top - before.bottom)];
    });
}"""

# From each radio button or checkbox to the first line of its words.
TO_THE_WORDS = """selector => [...document.querySelectorAll(selector)].map(input => {
    const range = document.createRange();
    range.selectNodeContents(input.closest("label, p"));
    range.setStartAfter(input);
    const words = [...range.getClientRects()].find(line => line.width);
    return Math.round(words.left - input.getBoundingClientRect().right);
})"""

WIDTHS = {"phone": (360, 740), "desktop": (1280, 800)}


@pytest.fixture(params=WIDTHS.values(), ids=WIDTHS.keys())
def without_gap(request, site):
    width, height = request.param

    def open_page(path: str):
        page = site(viewport={"width": width, "height": height}, bypass_csp=True)
        page.goto(path)
        page.add_style_tag(content=NO_GAP)
        return page

    return open_page


def distances(page, selector: str, *, rows_too: bool = False) -> list[int]:
    """Between the things selector finds, in order: across a line, and with rows_too also from
    one line to the next (rows that had no gap, as the menu's, may touch)."""
    return [d for across, d in page.evaluate(DISTANCES, selector) if across or rows_too]


def test_the_region_lists_links_and_button_stay_apart(without_gap):
    page = without_gap("/regions/")
    assert page.locator(".region-list__item").count() == 23
    for number in (1, 13, 23):
        # A region's button, «О регионе», «Представители».
        apart = distances(page, f".region-list__item:nth-child({number}) > *", rows_too=True)
        assert len(apart) == 2 and min(apart) >= APART, apart


def test_the_region_prompts_answers_stay_apart(without_gap):
    page = without_gap("/")
    apart = distances(page, ".region-prompt__actions > *", rows_too=True)
    assert len(apart) == 1 and apart[0] >= APART, apart
    # The question, its hint, the first answer: side by side on a wide screen.
    parts = ".region-prompt > p, .region-prompt__actions > :first-child"
    apart = distances(page, parts, rows_too=True)
    assert len(apart) == 2 and min(apart) >= APART, apart


# From «Единая «горячая линия»» to the number, where they share a line.
WORDS_TO_NUMBER = """() => {
    const text = document.querySelector(".hotline__text"), number = text.querySelector("a");
    const range = document.createRange();
    range.selectNodeContents(text);
    range.setEndBefore(number);
    const words = [...range.getClientRects()].filter(line => line.width).pop();
    const box = number.getBoundingClientRect();
    const across = words.top < box.bottom && box.top < words.bottom;
    return across ? Math.round(box.left - words.right) : null;
}"""


def test_the_hotline_number_stands_apart_from_its_words(without_gap):
    page = without_gap("/")
    apart = page.evaluate(WORDS_TO_NUMBER)
    if page.viewport_size["width"] >= 768:  # a phone may put the number under them
        assert apart is not None, "the number and its words no longer share a line"
    assert apart is None or apart >= APART, apart


def test_the_appeal_forms_choices_stand_apart_from_their_words(without_gap):
    page = without_gap("/obrashchenie/")
    topics = page.evaluate(TO_THE_WORDS, ".appeal-form__choices input")
    assert len(topics) >= 4 and min(topics) >= APART, topics
    consent = page.evaluate(TO_THE_WORDS, ".appeal-form__check input")
    assert len(consent) == 1 and consent[0] >= APART, consent


def test_the_menus_and_the_footers_links_stay_apart(without_gap):
    page = without_gap("/")
    if page.locator(".site-nav__toggle").is_visible():
        page.locator(".site-nav__toggle").click()
    for selector in (".site-nav__menu li", ".site-footer__links li"):
        apart = distances(page, selector)
        assert min(apart, default=APART) >= APART, (selector, apart)
