from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.test import Client
from django.urls import path

from omsportal.urls import urlpatterns as site_urls

pytestmark = pytest.mark.django_db


def broken(request):
    raise RuntimeError("boom")


def database_away(request):
    raise OperationalError("connection refused")


def suspicious(request):
    raise SuspiciousOperation("bad")


def denied(request):
    raise PermissionDenied


urlpatterns = [
    path("broken/", broken),
    path("database-away/", database_away),
    path("sus/", suspicious),
    path("no/", denied),
    *site_urls,
]
handler500 = "omsportal.views.server_error"


def test_404_is_russian_in_the_site_layout(client, regions):
    response = client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    assert "Страница не найдена" in page
    assert 'href="tel:+78003336003"' in page
    assert '<html lang="ru">' in page
    assert not response.cookies


def test_a_database_out_of_reach_is_a_503_to_retry_not_a_500(regions, settings):
    """nginx asks another instance for a GET that got a 503 (deploy/nginx.conf); a 500 it
    passes on. A bug stays a 500."""
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/database-away/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "<h1>Сайт временно недоступен</h1>" in page
    assert "Попробуйте открыть страницу через несколько минут" in page
    assert "Если вы отправляли обращение" not in page
    # A form sent meanwhile did not arrive: the person is told, and how to send it again.
    posted = client.post("/database-away/").content.decode()
    assert "Если вы отправляли обращение, оно не дошло. Вернитесь назад" in posted
    assert client.get("/broken/").status_code == HTTPStatus.INTERNAL_SERVER_ERROR


def test_500_is_russian_in_the_site_layout(regions, settings):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    page = response.content.decode()
    assert "На сайте произошла ошибка" in page
    assert 'href="tel:+78003336003"' in page
    assert "boom" not in page


def test_500_is_russian_when_its_own_layout_fails(regions, settings, uncollected_static):
    """A release whose collectstatic did not run: every page fails, the 500 page's stylesheet
    link too, and gunicorn answered with its own English «Internal Server Error»."""
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    page = response.content.decode()
    assert "На сайте произошла ошибка" in page
    assert 'href="tel:+78003336003">8 (800) 333-60-03</a>' in page
    assert '<html lang="ru">' in page


def test_500_keeps_the_version_for_visually_impaired_people(regions, settings):
    """Every page linked the special stylesheet, the 500 one too; since pages link it only for
    a visitor who chose it, through the request's context, the 500 page (rendered without
    one) showed that visitor small text in the normal colours."""
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    assert "special.css" not in client.get("/broken/").text
    client.cookies["special"] = "size:3.scheme:wb.spacing:normal.images:hide"
    page = client.get("/broken/").text
    assert '<link rel="stylesheet" href="/special.css?v=size:3.scheme:wb.spacing:normal' in page
    client.cookies["special"] = "size:9</style>"
    assert "special.css" not in client.get("/broken/").text


def test_csrf_failure_is_russian(regions):
    # Every form but the two same-origin-checked ones keeps Django's token: admin login here.
    response = Client(enforce_csrf_checks=True).post(
        "/admin/login/", {"username": "staff", "password": "x"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    page = response.content.decode()
    assert "Форма устарела" in page
    # What was typed is in the previous page: say how to keep it before reloading.
    assert "вернитесь на предыдущую страницу" in page and 'href="tel:+78003336003"' in page


def test_400_template_is_russian(regions, settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/sus/")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Неверный запрос" in response.content.decode()


def test_403_template_is_russian(regions, settings):
    settings.ROOT_URLCONF = __name__
    response = Client().get("/no/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Доступ запрещён" in response.content.decode()


def test_429_says_what_to_do_next_in_plain_words(regions, settings):
    # The region choice is limited per connection; on mobile internet many people share one.
    # A citizen stopped there must learn that nothing is lost and where to go on, not that
    # «their address» sent too much.
    settings.REGION_CHOICE_RATE = "1/m"
    client = Client()
    choose = {"region": "tomsk-oblast", "next": "/"}
    client.post("/regions/choose/", choose, HTTP_SEC_FETCH_SITE="same-origin")
    response = client.post("/regions/choose/", choose, HTTP_SEC_FETCH_SITE="same-origin")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    page = response.content.decode()
    assert "с вашего адреса" not in page.lower()
    assert "подключения к интернету" in page
    assert 'href="/v-drugom-regione/"' in page and 'href="/regions/"' in page
    assert 'href="tel:+78003336003"' in page


@pytest.mark.parametrize("path", ["/regions/narnia/", "/regions/narnia/representatives/"])
def test_an_unknown_region_leads_to_the_region_list(client, regions, path):
    """A mistyped region's link ended on the generic «Страница не найдена» with only «На главную
    страницу»; the list of regions is where such a person was going."""
    response = client.get(path)
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "<h1>Такого региона нет в списке</h1>" in page
    assert '<a class="button" href="/regions/">Список регионов</a>' in page
    assert 'href="tel:+78003336003"' in page


@pytest.mark.parametrize(
    ("path", "address"),
    [
        ("/regions/Moscow/", "/regions/moscow/"),
        ("/regions/PERM-KRAI/representatives/", "/regions/perm-krai/representatives/"),
    ],
)
def test_a_region_written_in_capitals_is_the_same_page_at_its_one_address(
    client, regions, path, address
):
    response = client.get(path)
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == address
