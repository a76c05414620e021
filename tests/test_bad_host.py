"""A Host that is not in ALLOWED_HOSTS (internet scanners, probes by address).

Every URL answers a Russian 400 page and one warning without a traceback, so scanners page
nobody; the health probes answer whatever the Host, since load balancers probe by address.
"""

import logging
from http import HTTPStatus

import pytest

from tests.test_instances import Instance, Visitor, production_env  # noqa: F401

pytestmark = pytest.mark.django_db

SCANNER = "scanner.invalid"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/zashchita-prav/",
        "/regions/",
        "/regions/moscow/",
        "/files/",
        "/robots.txt",
        "/sitemap.xml",
        "/no-such-page/",
        "/admin/",
        "/admin/login/",
        "/static/css/site.css",
    ],
)
def test_every_page_is_a_russian_400_for_an_unknown_host(client, regions, caplog, url):
    with caplog.at_level(logging.INFO):
        response = client.get(url, HTTP_HOST=SCANNER)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "Неверный запрос" in page
    assert '<html lang="ru">' in page
    assert not response.cookies
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    refusals = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert [r.levelno for r in refusals] == [logging.WARNING]
    assert refusals[0].exc_info is None
    # What the operator adds to ALLOWED_HOSTS if it is their own name.
    assert refusals[0].getMessage() == (
        f"Refused a request for a host not in ALLOWED_HOSTS: '{SCANNER}'"
    )


@pytest.mark.parametrize(
    ("host", "logged"),
    [
        ("oms.example.ru:8443", "'oms.example.ru:8443'"),
        ("evil\x1b[31m.test\r\nforged line", "'evil\\x1b[31m.test\\r\\nforged line'"),
        ("a" * 5000, "'" + "a" * 100 + "'…"),
    ],
)
def test_the_refused_host_is_named_short_and_escaped(client, caplog, host, logged):
    """A wrong ALLOWED_HOSTS makes every page this 400 while the probes say 200: the warning
    names the host to add, and no client can put a line break or megabytes into the log."""
    assert client.get("/", HTTP_HOST=host).status_code == HTTPStatus.BAD_REQUEST
    [refusal] = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert refusal.getMessage() == f"Refused a request for a host not in ALLOWED_HOSTS: {logged}"


def test_a_form_post_for_an_unknown_host_is_a_400_and_changes_nothing(client, regions, caplog):
    response = client.post("/regions/choose/", {"region": "tomsk-oblast"}, HTTP_HOST=SCANNER)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not response.cookies
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("url", ["/healthz", "/readyz"])
@pytest.mark.parametrize("host", [SCANNER, "10.0.0.7:8000", "[::1]"])
def test_probes_answer_whatever_the_host(client, caplog, url, host):
    response = client.get(url, HTTP_HOST=host)
    assert response.status_code == HTTPStatus.OK
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.server
def test_probes_by_address_of_a_live_instance(production_env):  # noqa: F811
    env, workdir = production_env
    instance = Instance(env, workdir / "web-bad-host.log")
    try:
        instance.wait_until_healthy()
        for host in (SCANNER, f"10.0.0.7:{instance.port}"):
            assert Visitor().request(instance, "GET", "/healthz", host=host)[0].status == 200
            assert Visitor().request(instance, "GET", "/readyz", host=host)[0].status == 200
            response, page = Visitor().request(instance, "GET", "/", host=host)
            assert response.status == 400
            assert "Неверный запрос" in page
    finally:
        instance.stop()
    lines = instance.log_lines()
    assert not [line for line in lines if line["level"] in {"ERROR", "CRITICAL"}]
    refusals = [line for line in lines if line["logger"] == "django.security.DisallowedHost"]
    assert [line["level"] for line in refusals] == ["WARNING", "WARNING"]
    assert not any("exception" in line for line in refusals)
