"""Printing the rights page and a representatives page: contacts on paper, no navigation."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

HIDDEN_IN_PRINT = [".site-nav", ".special-link", ".region-prompt", ".skip-link", ".site-footer"]


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
    shown_targets = page.evaluate(
        """() => [...document.querySelectorAll("main a[href^='/'], main a[href^='http']")]
            .filter(a => a.getClientRects().length)
            .map(a => getComputedStyle(a, "::after").content)"""
    )
    assert shown_targets, "no links to show"
    assert all("/" in target for target in shown_targets), shown_targets

    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type/Page\n") <= 4 or len(pdf) < 500_000
