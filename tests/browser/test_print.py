"""Printing the rights page and a representatives page: contacts on paper, no navigation."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HIDDEN_IN_PRINT = [
    ".site-nav",
    ".special-link",
    ".sv-bar",
    ".region-prompt",
    ".skip-link",
    ".site-footer",
]


@pytest.mark.parametrize("path", ["/zashchita-prav/", "/regions/tomsk-oblast/representatives/"])
def test_page_prints_on_a4_without_navigation_and_with_link_targets(site, content, path):
    page = site()
    page.goto(path)
    page.emulate_media(media="print")

    for selector in HIDDEN_IN_PRINT:
        for element in page.locator(selector).all():
            expect(element).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".hotline")).to_contain_text("8 (800) 333-60-03")
    # On paper a link to another site shows its address, in its text or after it (the print
    # stylesheet). A link within this one shows no bare path: «(/obrashchenie/?region=…)» is
    # of no use on paper; the page's own full address is printed at its foot.
    links = page.evaluate(
        """() => [...document.querySelectorAll("main a[href^='/'], main a[href^='http']")]
            .filter(a => a.getClientRects().length && !a.href.includes("next="))
            .map(a => ({
                href: a.getAttribute("href"),
                shown: a.innerText.includes(a.getAttribute("href"))
                    || getComputedStyle(a, "::after").content.includes(a.getAttribute("href")),
            }))"""
    )
    external = [link for link in links if link["href"].startswith("http")]
    internal = [link for link in links if link["href"].startswith("/")]
    assert links, "no links to print"
    assert [link["href"] for link in external if not link["shown"]] == []
    assert [link["href"] for link in internal if link["shown"]] == []
    # The site's configured address, whatever host the page was opened on.
    expect(page.locator(".print-source")).to_contain_text(f"Страница сайта: {settings.SITE_URL}/")

    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 3, "more than 3 A4 pages"
