"""Printed pages say where they come from, also when the page was served from a cache."""

import pytest

pytestmark = pytest.mark.usefixtures("regions")


@pytest.mark.parametrize("path", ["/", "/zashchita-prav/", "/regions/tomsk-oblast/"])
def test_each_host_prints_its_own_address(client, path):
    for host in ["localhost", "127.0.0.1", "localhost"]:
        html = client.get(path, headers={"Host": host}).text
        assert f'<p class="print-source">Страница сайта: http://{host}{path}</p>' in html
