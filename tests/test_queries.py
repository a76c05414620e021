"""SQL per public page: constant with an empty cache, at most two with a warm one (the content
version, and the session where it lives in the database), however much content."""

import pytest

from tests.support import clear_caches

from .pages import CONTENT, PAGES

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[(kind, count) for kind in CONTENT for count in (1, 200)], ids=str)
def content(request, regions):
    kind, count = request.param
    return kind, CONTENT[kind](count)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_queries_cold_and_warm(client, content, page, django_assert_num_queries):
    kind, first_file = content
    url = page.url(first_file)
    clear_caches()
    with django_assert_num_queries(page.cold_queries(kind)):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(page.warm):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_visitor_with_a_session_costs_at_most_two_queries(
    client, content, page, django_assert_max_num_queries
):
    client.post("/regions/choose/", {"region": "perm-krai", "next": "/"})
    url = page.url(content[1])
    client.get(url)
    with django_assert_max_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200
    if page.regional:
        assert "Пермский край" in response.text
        assert "Ваш регион\u00a0— город Москва?" not in response.text


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_visitor_with_the_special_version_costs_at_most_two_queries(
    client, content, page, django_assert_max_num_queries
):
    """Their pages are kept apart from newcomers' (Django's page cache keys by the choice), but
    kept all the same."""
    client.cookies["special"] = "size:3.scheme:wb.spacing:wide.images:hide"
    url = page.url(content[1])
    client.get(url)
    with django_assert_max_num_queries(2):
        response = client.get(url)
    assert response.status_code == 200
    if response["Content-Type"].startswith("text/html"):
        assert "/special.css?v=size:3.scheme:wb.spacing:wide.images:hide" in response.text
