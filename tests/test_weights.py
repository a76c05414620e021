"""Page weights: HTML ≤ 30 KB uncompressed per page, CSS ≤ 20 KB (28 KB in the large-print
version, see below), JavaScript ≤ 10 KB."""

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from .pages import REGION, make_file

pytestmark = pytest.mark.django_db

HTML_LIMIT, CSS_LIMIT, JS_LIMIT = 30 * 1024, 20 * 1024, 10 * 1024
# The large-print version links site.css (≤ 20 KB), its overrides (static/css/special.css, about
# 6 KB) and the visitor's choice (/special.css?v=…, under 1 KB): 26.6 KB in all when this limit
# was set. The overrides cannot join site.css without every other visitor downloading them, nor
# replace it without a second copy of the whole site's rules to keep in step; both static files
# have hashed names and are cached as immutable: a visitor loads them once, not per page. 28 KB:
# today's weight and room for a few rules more, not for a third file.
LARGE_PRINT_CSS_LIMIT = 28 * 1024
LARGE_PRINT = "size:3.scheme:wb.spacing:wide.images:hide"
HTML_PAGES = ["/", "/zashchita-prav/", "/regions/", f"/regions/{REGION}/"]
HTML_PAGES += [f"/regions/{REGION}/representatives/", "/files/", "/regions/moscow/"]
HTML_PAGES += ["/obrashchenie/"]


@pytest.fixture
def published(regions):
    # A realistic amount: the base programme and a registry for all Russia, one per region.
    make_file(title="Базовая программа ОМС")
    for region in regions.regions:
        make_file(title=f"Реестр медицинских организаций: {region.name}", region=region)


def linked(html: str, pattern: str) -> list[str]:
    return [unescape(url) for url in re.findall(pattern, html)]


def weight(client, url: str) -> int:
    """Bytes of a linked file: a static file as collected, anything else as the site serves it."""
    if url.startswith("/static/"):
        return Path(finders.find(url.removeprefix("/static/"))).stat().st_size
    response = client.get(url)
    assert response.status_code == 200, url
    return len(response.content)


@pytest.mark.parametrize(
    ("version", "css_limit"), [("normal", CSS_LIMIT), ("large print", LARGE_PRINT_CSS_LIMIT)]
)
@pytest.mark.parametrize("url", HTML_PAGES)
def test_page_weight(client, published, url, version, css_limit):
    if version == "large print":
        client.cookies["special"] = LARGE_PRINT
    html = client.get(url).content
    assert len(html) <= HTML_LIMIT
    text = html.decode()
    stylesheets = linked(text, r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"')
    assert len(stylesheets) == (3 if version == "large print" else 1), stylesheets
    css = sum(weight(client, stylesheet) for stylesheet in stylesheets)
    assert css <= css_limit, (stylesheets, css)
    scripts = linked(text, r'<script[^>]+src="([^"]+)"')
    assert sum(weight(client, script) for script in scripts) <= JS_LIMIT


def test_the_appeal_form_costs_no_stylesheet_of_its_own(client, regions):
    # Its own appeals.css was one more request before the form could paint, on the slow links
    # of the people most likely to need it.
    html = client.get("/obrashchenie/").text
    stylesheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    assert stylesheets == ["/static/css/site.css"]
    assert Path(finders.find("css/site.css")).stat().st_size <= CSS_LIMIT
