"""Page weights: HTML ≤ 30 KB uncompressed per page, CSS ≤ 20 KB, JavaScript ≤ 10 KB."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from .pages import REGION, make_file

pytestmark = pytest.mark.django_db

HTML_LIMIT, CSS_LIMIT, JS_LIMIT = 30 * 1024, 20 * 1024, 10 * 1024
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
    return [url.removeprefix("/static/") for url in re.findall(pattern, html)]


@pytest.mark.parametrize("url", HTML_PAGES)
def test_page_weight(client, published, url):
    html = client.get(url).content
    assert len(html) <= HTML_LIMIT
    text = html.decode()
    for pattern, limit in (
        (r'<link[^>]+rel="stylesheet"[^>]+href="(/static/[^"]+)"', CSS_LIMIT),
        (r'<script[^>]+src="(/static/[^"]+)"', JS_LIMIT),
    ):
        total = sum(Path(finders.find(path)).stat().st_size for path in linked(text, pattern))
        assert total <= limit, pattern


def test_the_appeal_form_costs_no_stylesheet_of_its_own(client, regions):
    # Its own appeals.css was one more request before the form could paint, on the slow links
    # of the people most likely to need it.
    html = client.get("/obrashchenie/").text
    stylesheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    assert stylesheets == ["/static/css/site.css"]
    assert Path(finders.find("css/site.css")).stat().st_size <= CSS_LIMIT
