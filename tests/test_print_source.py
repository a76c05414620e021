"""Printed pages say where they come from: the site's configured address, whatever Host a
client sent, so that a page is the same bytes for every visitor and a cache can keep it."""

import pytest

pytestmark = pytest.mark.usefixtures("regions")


@pytest.mark.parametrize("path", ["/", "/zashchita-prav/", "/regions/tomsk-oblast/"])
def test_pages_print_the_configured_address_whatever_the_host(client, settings, path):
    settings.SITE_URL = "https://oms.example.ru"
    pages = {client.get(path, headers={"Host": host}).text for host in ["localhost", "127.0.0.1"]}
    assert len(pages) == 1
    source = f'<p class="print-source">Страница сайта: https://oms.example.ru{path}</p>'
    assert source in pages.pop()
