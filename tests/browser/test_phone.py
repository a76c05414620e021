"""Small screens: no sideways scroll, big enough tap targets, readable type."""

import pytest
from django.core.files.base import ContentFile

from regions.models import Region, RegistryFile
from tests.support import clear_caches

from .conftest import PHONE

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/zashchita-prav/",
    "/regions/",
    "/regions/tomsk-oblast/",
    "/regions/tomsk-oblast/representatives/",
    "/files/",
    "/special/",
    "/obrashchenie/",
    "/konfidencialnost/",
    "/no-such-page/",
]

NO_SIDEWAYS_SCROLL = (
    "document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"
)
# What sticks out on the right, for the failure message.
OVERFLOWING = """() => [...document.querySelectorAll("body *")]
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .map(el => `${el.tagName.toLowerCase()}.${el.className}: ${el.textContent.trim().slice(0, 30)}`)
    .slice(0, 5)"""

# Links and buttons smaller than 44 × 44 CSS px. Links inside a sentence are exempt, as WCAG
# 2.5.8 exempts inline targets: their size is the line's, and padding would break the text.
SMALL_TARGETS = """() => [...document.querySelectorAll(
        "header a, header button, main a, main button, footer a, footer button")]
    .filter(el => el.getClientRects().length && !el.closest(".skip-link"))
    .filter(el => {
        const inSentence = getComputedStyle(el).display === "inline"
            && el.parentElement.textContent.trim() !== el.textContent.trim();
        return !inSentence;
    })
    .map(el => ({text: el.textContent.trim(), box: el.getBoundingClientRect()}))
    .filter(t => t.box.width < 44 || t.box.height < 44)
    .map(t => `${t.text}: ${Math.round(t.box.width)}×${Math.round(t.box.height)}`)"""

SMALLEST_TEXT = """() => Math.min(...[...document.querySelectorAll("body *")]
    .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .filter(el => el.getClientRects().length)
    .map(el => parseFloat(getComputedStyle(el).fontSize)))"""


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_320_px_phone_and_a_desktop_zoomed_to_200_percent(site, path):
    page = site(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page.goto(path)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scroll at 320 px"

    # 1280 px at 200% zoom lays out like a 640 px wide window.
    page.set_viewport_size({"width": 640, "height": 400})
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "sideways scroll at 200% zoom"


@pytest.mark.parametrize("path", PAGES)
def test_tap_targets_are_at_least_44_px_and_type_is_readable(site, path):
    page = site(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(path)

    assert page.evaluate(SMALL_TARGETS) == []
    assert page.locator("body").evaluate("b => parseFloat(getComputedStyle(b).fontSize)") >= 16
    assert page.evaluate(SMALLEST_TEXT) >= 14


ENLARGED = [
    "/",
    "/zashchita-prav/",
    "/regions/",
    "/regions/tomsk-oblast/representatives/",
    "/obrashchenie/",  # the consent's long words beside its checkbox
    # A registry file's title, a link of its own: its longest word set its width.
    "/files/",
    "/v-drugom-regione/tomsk-oblast/tomsk-oblast/",
]
ENLARGE = "html { font-size: 200% !important; }"
# Titles as registries are named, with words wider than a 320 px line at 200 %.
LONG_TITLE = (
    "Реестр медицинских организаций, осуществляющих деятельность в сфере обязательного "
    "медицинского страхования Томской области"
)


@pytest.fixture
def long_titled_file(regions):
    RegistryFile.objects.create(
        title=LONG_TITLE,
        kind=RegistryFile.Kind.MEDICAL_ORGS,
        region=Region.objects.get(slug="tomsk-oblast"),
        file=ContentFile(b"%PDF-1.4\n", name="f.pdf"),
    )
    clear_caches()


def test_text_enlarged_to_200_percent_still_fits_a_320_px_phone(site, subjects, long_titled_file):
    # Android's font scaling; the stylesheet is injected, so this context ignores the CSP.
    page = site(viewport={"width": 320, "height": 640}, bypass_csp=True)
    for path in ENLARGED:
        page.goto(path)
        page.add_style_tag(content=ENLARGE)
        assert page.evaluate(NO_SIDEWAYS_SCROLL), (path, page.evaluate(OVERFLOWING))
    assert page.get_by_role("link", name=LONG_TITLE).is_visible()


# Words of a heading (or button) wider than its line, measured each on one line in the
# element's own type: what the browser must split without a hyphen. Only where the browser
# knows Russian hyphenation does it split a word with one (this Chromium does not), so the
# measure, not the rendering, is what holds everywhere. Words joined by a no-break space are
# one; a hyphenated name («Санкт-Петербург») may break after its hyphen.
WIDER_THAN_THE_LINE = """([selector, only]) => {
    const measured = [], wide = [];
    for (const el of document.querySelectorAll(selector)) {
        const style = getComputedStyle(el);
        const room = el.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const probe = el.appendChild(document.createElement("span"));
        probe.style.cssText = "position: absolute; white-space: nowrap; visibility: hidden";
        const words = el.textContent.trim().split(/[ \\t\\n]+/).flatMap(w => w.split(/(?<=-)/));
        for (const word of words.filter(w => !only || only.includes(w))) {
            probe.textContent = word;
            const width = probe.getBoundingClientRect().width;
            measured.push(word);
            if (width > room + 0.5) wide.push(`${word}: ${Math.round(width)} px, line ${room} px`);
        }
        probe.remove();
    }
    return {measured, wide};
}"""
# (page, elements, the words to check: None for all). «здравоохранения» is wider than a 320 px
# line at 200 % whatever the heading's size: only hyphenation splits it well, and the page says
# so with hyphens: auto (lang="ru"). The names of regions must fit whole.
UNSPLIT = [
    ("/regions/tomsk-oblast/", "main h1", None),
    ("/no-such-page/", "main h1", None),
    ("/obrashchenie/", "main h1", None),
    ("/regions/", "main h1, .region-list__choose", None),
    ("/regions/vladimir-oblast/", "main h1", None),
    ("/regions/vladimir-oblast/", "main h2", ["Владимирской"]),
    ("/regions/karachay-cherkessia/", "main h2", ["Карачаево-", "Черкесской", "Республики"]),
    ("/v-drugom-regione/moscow/orenburg-oblast/", "main h1", None),
    ("/v-drugom-regione/moscow/orenburg-oblast/", "main h2", ["Оренбургской"]),
]


@pytest.mark.parametrize("version", ["normal", "special"])
def test_headings_keep_their_words_whole_with_large_text_on_a_320_px_phone(
    site, subjects, live_server, version
):
    """At 200 % on 320 px «Томская область» read «Томска / я / област / ь». The large-print
    version at its largest size, as wide spacing allows no such word on a line at all."""
    page = site(viewport={"width": 320, "height": 640}, is_mobile=True, bypass_csp=True)
    if version == "special":
        value = "size:3.scheme:wb.spacing:normal.images:hide"
        page.context.add_cookies([{"name": "special", "value": value, "url": live_server.url}])
    for path, selector, only in UNSPLIT:
        page.goto(path)
        if version == "normal":
            page.add_style_tag(content=ENLARGE)
        assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 32
        found = page.evaluate(WIDER_THAN_THE_LINE, [selector, only])
        assert found["measured"] and set(only or []) <= set(found["measured"]), (path, found)
        assert found["wide"] == [], (path, selector, found["wide"])


# Phone numbers (wrapped by the typograph filter) taller than one line of their own text.
BROKEN_PHONES = """() => [...document.querySelectorAll(".nowrap")]
    .filter(el => el.getClientRects().length)
    .filter(el => el.getBoundingClientRect().height
        > 1.5 * parseFloat(getComputedStyle(el).lineHeight))
    .map(el => el.textContent)"""


@pytest.mark.parametrize("path", ["/", "/zashchita-prav/", "/regions/tomsk-oblast/"])
def test_phone_numbers_are_never_split_across_lines_at_320_px(site, content, path):
    page = site(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    page.goto(path)
    assert page.locator(".nowrap").count() > 0
    assert page.evaluate(BROKEN_PHONES) == []


# Every line of each topic's words, left of its radio button's right edge: a wrapped line
# that runs back under the button.
TEXT_UNDER_RADIO = """() => [...document.querySelectorAll(".appeal-form__choices label")]
    .filter(label => {
        const radio = label.querySelector("input").getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(label);
        range.setStartAfter(label.querySelector("input"));
        return [...range.getClientRects()].some(line => line.width && line.left < radio.right);
    })
    .map(label => label.textContent.trim())"""


def test_appeal_topics_wrap_beside_their_radio_buttons_at_320_px(site, subjects):
    # On a narrow phone «Отказали в медицинской помощи» takes two lines; the second one ran
    # back under the button, so the list read as buttons and words mixed.
    page = site(js=False, viewport={"width": 320, "height": 640})
    page.goto("/obrashchenie/")
    assert page.evaluate(TEXT_UNDER_RADIO) == []


def test_a_refused_appeal_shows_what_to_fix_on_the_first_screen_of_a_phone(site, subjects):
    # Without JavaScript nothing moves the page to the mistakes: at 320 × 640 they began below
    # the first screen, under the introduction, and the form looked as if nothing had happened.
    page = site(js=False, viewport={"width": 320, "height": 640})
    page.goto("/obrashchenie/")
    page.get_by_role("button", name="Отправить").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary h2").bounding_box()
    assert summary is not None and summary["y"] + summary["height"] <= 640, summary


# Every visible phone number: its size, and the size of the text around it (its parent's).
PHONE_SIZES = """() => [...document.querySelectorAll('a[href^="tel:"]')]
    .filter(a => a.getClientRects().length)
    .map(a => [a.textContent.trim(), parseFloat(getComputedStyle(a).fontSize),
               parseFloat(getComputedStyle(a.parentElement).fontSize)])"""


@pytest.mark.parametrize("path", ["/", "/regions/tomsk-oblast/representatives/"])
def test_phone_numbers_grow_with_zoom_like_the_text_around_them(site, content, path):
    """Sized by the viewport, at 200 % zoom on a 360 px phone the hotline number grew from 21.6
    to 25.2 device px while the text around it doubled to 36.8."""
    page = site(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(path)
    body = page.locator("body").evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
    unzoomed = page.evaluate(PHONE_SIZES)
    assert page.locator(".hotline a[href^='tel:']").count() == 1
    # A 360 px phone at 200 % zoom lays out 180 CSS px wide: CSS sizes must stay, every CSS
    # pixel now two device pixels, as for the body's text.
    page.set_viewport_size({"width": 180, "height": 320})
    zoomed = page.evaluate(PHONE_SIZES)
    assert zoomed == unzoomed
    assert [phone for phone in zoomed if phone[1] < phone[2]] == []
    hotline = page.locator(".hotline a[href^='tel:']")
    assert hotline.evaluate("a => parseFloat(getComputedStyle(a).fontSize)") >= body
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate(OVERFLOWING)
    # A number too wide for the line wraps at a space, never inside a group of digits.
    assert page.evaluate(SPLIT_DIGITS) == []


# Numbers split inside a group of digits: a line of the number that neither ends with a space
# nor is followed by a line starting with one.
SPLIT_DIGITS = """() => [...document.querySelectorAll(".nowrap:not(.nowrap .nowrap)")]
    .filter(el => el.getClientRects().length)
    .filter(el => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        const range = document.createRange();
        let lines = [], top = null;
        for (let text; (text = walker.nextNode());) {
            for (let i = 0; i < text.length; i++) {
                range.setStart(text, i); range.setEnd(text, i + 1);
                const y = Math.round(range.getBoundingClientRect().top);
                if (y !== top) { lines.push(""); top = y; }
                lines[lines.length - 1] += text.data[i];
            }
        }
        return lines.slice(1).some((line, i) => !/\\s$/.test(lines[i]) && !/^\\s/.test(line));
    })
    .map(el => el.textContent)"""
