import re
from http import HTTPStatus
from xml.etree import ElementTree

import pytest
from django.test import Client

from regions.models import Region
from tests.support import REFUSED_STEPS, assert_in_order, clear_caches

from .factories import registry_file

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/zashchita-prav/",
    "/regions/",
    "/regions/moscow/",
    "/regions/tomsk-oblast/",
    "/regions/tomsk-oblast/representatives/",
    "/files/",
    "/konfidencialnost/",
]


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_page_has_hotline_title_and_description(client, regions, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Единая «горячая линия»" in page
    assert (
        '<a class="hotline__phone" href="tel:+78003336003">'
        '<span class="nowrap">8 (800) <span class="nowrap">333-60-03</span></span></a>'
    ) in page
    assert re.search(r"<title>[^<]{10,}</title>", page)
    assert re.search(r'<meta name="description" content="[^"]{30,}">', page)
    assert '<html lang="ru">' in page
    assert 'href="#main-content"' in page and 'id="main-content"' in page


def test_each_page_has_its_own_title(client, regions):
    titles = {
        re.search(r"<title>([^<]*)</title>", client.get(url).content.decode()).group(1)
        for url in PUBLIC_PAGES
    }
    assert len(titles) == len(PUBLIC_PAGES)


def test_home_leads_to_the_main_pages(client, regions):
    page = client.get("/").content.decode()
    # A newcomer has no region of their own yet: the choice, coming back here.
    for href in ["/zashchita-prav/", "/regions/", "/files/", "/regions/?next=/"]:
        assert f'href="{href}"' in page


def test_rights_page_carries_the_seed_content(client, regions):
    page = client.get("/zashchita-prav/").content.decode()
    for text in [
        "Защита прав застрахованных за пределами территории, в которой выдан полис ОМС",
        "удостоверяет право застрахованного лица на бесплатное оказание медицинской помощи "
        "на всей территории Российской Федерации",
        "предъявление полиса ОМС не требуется",
        "Экстренная помощь оказывается бесплатно и безотлагательно.",
        "обратитесь к страховым представителям региона, в котором вам выдан полис ОМС",
        # «Ваш страховой представитель» once the visitor chose a region (tests below).
        "Выбрать регион",
        "Правила обязательного медицинского страхования",
    ]:
        assert text in page, text


def test_emergency_notice_comes_before_everything_else(client, regions):
    page = client.get("/zashchita-prav/").content.decode()
    main = page[page.index('id="main-content"') :]
    assert main.index("Экстренная помощь") < main.index("Полис ОМС действует во всей России")
    assert 'href="tel:103"' in main and 'href="tel:112"' in main


def test_rights_page_says_what_to_do_if_refused_in_legal_mds_order(client, regions):
    """The page on protecting one's rights said nothing of a refusal: the steps legal.md
    backs, quickest first, each with the way to take it."""
    page = client.get("/zashchita-prav/").content.decode()
    section = page.split('<h2 id="refused-title">')[1].split("</section>")[0]
    steps = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", section))
    assert_in_order(
        steps,
        [
            "Если вам отказали в медицинской помощи",
            "К главному врачу или в администрацию медицинской организации",
            "На «горячую линию» страховой компании, которая выдала ваш полис",
            "В ТФОМС региона, где вы сейчас",
            "письменное обращение",
        ],
    )
    assert 'href="tel:+78003336003"' in section
    assert 'href="/v-drugom-regione/"' in section  # the fund of the place, for any of the 89
    assert 'href="/obrashchenie/"' in section
    # No fund's phone is shipped (data/README.md): the journey has sites, the hotline a number.
    assert "Его телефон подскажем по «горячей линии»; сайты фондов, которые у нас есть" in steps
    assert "Его контакты" not in steps


def test_rights_page_links_the_representatives_of_the_visitor_region(client, regions):
    client.post("/regions/choose/", {"region": "perm-krai", "next": "/"})
    page = client.get("/zashchita-prav/").content.decode()
    assert 'href="/regions/perm-krai/representatives/">Ваш страховой представитель</a>' in page


def who_helps(page: str) -> str:
    """«Кто поможет: страховые представители» of the rights page."""
    return page.split('<h2 id="representative-title">')[1].split("</section>")[0]


def test_a_newcomer_is_offered_the_choice_not_the_default_regions_representatives(client, regions):
    """A visitor from Perm who skipped «Ваш регион — Город Москва?» was sent by a big «Ваш
    страховой представитель» button to Moscow's representatives."""
    section = who_helps(client.get("/zashchita-prav/").content.decode())
    assert "Ваш страховой представитель" not in section
    assert "/regions/moscow/" not in section
    assert '<a class="button" href="/regions/?next=/zashchita-prav/">Выбрать регион</a>' in section
    home = client.get("/").content.decode()
    assert "Ваш страховой представитель" not in home
    assert "/regions/moscow/representatives/" not in home
    assert '<h2 class="card__title"><a href="/regions/?next=/">Выбрать регион</a></h2>' in home
    # One card to the region list, not a second one with almost the same words.
    cards = home.split('<ul class="cards">')[1].split("</ul>")[0]
    assert len(re.findall(r'href="/regions/[?"]', cards)) == 1


def test_after_choosing_a_region_its_representatives_are_the_visitors(client, regions):
    section = who_helps(client.get("/zashchita-prav/").content.decode())
    link = re.search(r'href="([^"]+)">Выбрать регион</a>', section)[1]
    listed = client.get(link).content.decode()
    form = next(f for f in re.findall(r"<form.*?</form>", listed, re.S) if "perm-krai" in f)
    next_path = re.search(r'name="next" value="([^"]*)"', form)[1]
    chosen = client.post("/regions/choose/", {"region": "perm-krai", "next": next_path})
    assert chosen["Location"] == "/zashchita-prav/"
    section = who_helps(client.get(chosen["Location"]).content.decode())
    assert (
        '<a class="button" href="/regions/perm-krai/representatives/">'
        "Ваш страховой представитель</a>"
    ) in section
    assert ">Выбрать регион<" not in section
    home = client.get("/").content.decode()
    assert (
        '<h2 class="card__title"><a href="/regions/perm-krai/representatives/">'
        "Ваш страховой представитель</a></h2>"
    ) in home
    # The page kept for the visitor who chose is not what the next newcomer gets.
    newcomer = Client()
    for url in ("/", "/zashchita-prav/"):
        page = newcomer.get(url).content.decode()
        assert "Ваш страховой представитель" not in page and "perm-krai" not in page, url
        assert ">Выбрать регион</a>" in page, url


def test_a_geo_suggested_region_is_not_presented_as_the_visitors_either(client, regions, settings):
    # Suggested by the trusted header, still only asked about in the prompt.
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    page = client.get("/zashchita-prav/", HTTP_X_GEO_REGION="RU-TOM").content.decode()
    assert "Ваш регион\u00a0— Томская область?" in page
    section = who_helps(page)
    assert "Ваш страховой представитель" not in section
    assert "/regions/tomsk-oblast/" not in section


def test_rights_page_without_files_offers_the_hotline_not_a_blank(client, regions):
    Region.objects.update(tfoms_name="", tfoms_site="")
    clear_caches()  # a bulk update sends no signal
    page = client.get("/zashchita-prav/").content.decode()
    assert "Файл с базовой программой ОМС пока не опубликован" in page
    assert (
        "Реестры медицинских организаций, контакты ТФОМС и органов здравоохранения пока не "
        "опубликованы на сайте." in page
    )
    assert "можете скачать" not in page
    # No generated contacts file while no region's contacts are known: it would be empty.
    assert "/files/contacts.csv" not in page


def registries_section(page: str) -> str:
    """«Куда обратиться: …» of the rights page, from its heading to its end."""
    return page.split('<h2 id="registries-title">')[1].split("</section>")[0]


def test_rights_page_offers_the_contacts_download_once_contacts_exist(client, regions):
    page = client.get("/zashchita-prav/").content.decode()
    assert 'href="/files/contacts.csv"' in page
    assert 'href="/files/contacts.xlsx"' in page
    # Two links to the same contacts: each says its format inside it, for screen readers too.
    names = re.findall(r'<a href="/files/contacts\.(?:csv|xlsx)" download>(.*?)</a>', page)
    assert len(names) == 2 and "XLSX" in names[0] and "CSV" in names[1]
    assert "по данным на 14.05.2026" in page
    # The funds' contacts are there, the registries and the health authorities' are not: the
    # page says which are missing, all that its heading names.
    section = registries_section(page)
    assert "органы здравоохранения</h2>" in section
    assert (
        "Реестры медицинских организаций и контакты органов здравоохранения пока не опубликованы"
        in section
    )
    assert "ТФОМС пока не опубликованы" not in section and "ТФОМС и органов" not in section


def test_the_contacts_download_promises_only_what_it_holds(client, regions):
    """Shipped, the file holds the funds' names and sites: «Контакты» would promise phones."""
    names = re.compile(r'<a href="/files/contacts\.csv" download>(.*?) <span')
    page = client.get("/zashchita-prav/").content.decode()
    assert names.findall(page) == ["ТФОМС: названия и сайты"]
    assert "Названия и сайты территориальных фондов ОМС регионов" in page
    Region.objects.filter(slug="perm-krai").update(tfoms_phone="8 (342) 200-00-00")
    clear_caches()  # update() sends no signal
    assert names.findall(client.get("/zashchita-prav/").content.decode()) == ["Контакты ТФОМС"]


def test_missing_registries_are_said_once_one_is_published(client, regions, media_root):
    registry_file(title="Реестр города Москвы (тест)", region=regions.by_slug["moscow"])
    rights = client.get("/zashchita-prav/").content.decode()
    section = registries_section(rights)
    assert "Реестр города Москвы (тест)" in section
    assert "Реестры медицинских организаций пока" not in section
    assert "Контакты органов здравоохранения пока не опубликованы на сайте." in section
    # The list for all Russia has neither the programme nor a registry yet: it says so.
    files = client.get("/files/").content.decode()
    assert "Базовая программа ОМС и реестры медицинских организаций пока не опубликованы" in files


def test_rights_page_lists_each_file_under_what_it_is(client, regions, media_root):
    """A file staff marked «Другое» is no registry of medical organisations."""
    registry_file(title="Реестр медицинских организаций (тест)")
    registry_file(title="Контакты фондов (тест)", kind="contacts", name="contacts.pdf")
    registry_file(title="Памятка (тест)", kind="other", name="pamyatka.pdf")
    section = registries_section(client.get("/zashchita-prav/").content.decode())
    registries, contacts = section.split("Контакты ТФОМС и органов здравоохранения:</p>")
    assert "Реестр медицинских организаций (тест)" in registries
    assert "Контакты фондов (тест)" in contacts and "Контакты фондов" not in registries
    assert "Памятка (тест)" not in section
    assert "пока не опубликованы" not in section  # all that the heading names is there
    assert "Памятка (тест)" in client.get("/files/").content.decode()


def test_rights_page_lists_files_for_russia_and_for_the_visitor_region(client, regions, media_root):
    registry_file(title="Базовая программа ОМС на 2026 год", kind="programme", name="bp.pdf")
    registry_file(title="Реестр Томской области", region=regions.by_slug["tomsk-oblast"])
    registry_file(title="Реестр Пермского края", region=regions.by_slug["perm-krai"])
    client.post("/regions/choose/", {"region": "tomsk-oblast", "next": "/"})
    page = client.get("/zashchita-prav/").content.decode()
    assert "Базовая программа ОМС на 2026\xa0год" in page
    assert "Реестр Томской области" in page
    assert "Реестр Пермского края" not in page
    assert re.search(r"PDF, \d+[\xa0 ]байт(а|ов)?, опубликован \d+\xa0\w+ \d{4}\xa0г\.", page)


def test_region_page_shows_known_contacts_and_hides_unknown(client, regions):
    region = regions.by_slug["tomsk-oblast"]
    region.tfoms_name = "ТФОМС Томской области (тестовые данные)"
    region.tfoms_phone = "8 (3822) 12-34-56"
    region.save()
    page = client.get("/regions/tomsk-oblast/").content.decode()
    assert "ТФОМС Томской области (тестовые данные)" in page
    assert 'href="tel:+73822123456"' in page
    assert "Орган здравоохранения</h3>" not in page
    assert "Адрес:" not in page


def test_region_page_without_contacts_offers_the_hotline(client, regions):
    Region.objects.filter(slug="moscow").update(tfoms_name="", tfoms_site="")
    clear_caches()  # a bulk update sends no signal
    page = client.get("/regions/moscow/").content.decode()
    assert "пока не опубликованы" in page
    assert "Телефон:" not in page


def test_unknown_region_page_is_404(client, regions):
    assert client.get("/regions/atlantis/").status_code == HTTPStatus.NOT_FOUND
    assert client.get("/regions/atlantis/representatives/").status_code == HTTPStatus.NOT_FOUND


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap_locations(response) -> set[str]:
    tree = ElementTree.fromstring(response.content)
    return {loc.text for loc in tree.findall("s:url/s:loc", SITEMAP_NS)}


def test_robots_txt_points_to_the_sitemap(client, regions, settings):
    settings.SITE_URL = "https://oms.example.ru"
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Sitemap: https://oms.example.ru/sitemap.xml" in body
    assert "Disallow: /admin/" in body


def test_sitemap_lists_every_public_page_and_each_region(client, regions, settings):
    settings.SITE_URL = "https://oms.example.ru"
    response = client.get("/sitemap.xml")
    assert response.status_code == HTTPStatus.OK
    locations = sitemap_locations(response)
    for url in ["/", "/zashchita-prav/", "/regions/", "/files/", "/konfidencialnost/"]:
        assert f"https://oms.example.ru{url}" in locations
    for region in regions.regions:
        assert f"https://oms.example.ru/regions/{region.slug}/" in locations
        assert f"https://oms.example.ru/regions/{region.slug}/representatives/" in locations


def test_sitemap_and_robots_name_the_site_whatever_host_a_client_sent(client, regions, settings):
    # Both are cached whole (by Django and by nginx) and served to everyone: the first client's
    # Host, an allowed alias or a port, must not end up in every search engine's copy.
    settings.SITE_URL = "https://oms.example.ru"
    first = client.get("/sitemap.xml", headers={"host": "localhost:8081"})
    robots = client.get("/robots.txt", headers={"host": "localhost:8081"})
    later = client.get("/sitemap.xml")
    for response in (first, later):
        locations = sitemap_locations(response)
        assert "https://oms.example.ru/" in locations
        assert not [loc for loc in locations if "localhost" in loc or "testserver" in loc]
    assert "Sitemap: https://oms.example.ru/sitemap.xml" in robots.content.decode()


def test_favicon_is_served_from_the_site_root(client, regions):
    response = client.get("/favicon.ico")
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/x-icon"


@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_the_footer_puts_the_quicker_steps_before_the_written_appeal(client, regions, url):
    """The footer on every page sent anyone refused care to the written appeal first."""
    page = client.get(url).content.decode()
    footer = page.split('<footer class="site-footer">')[1].split("</footer>")[0]
    refused = next(p for p in footer.split("<p>") if "отказали в медицинской помощи" in p)
    # All four of legal.md's steps: it named the head doctor and the hotline, not the fund.
    assert_in_order(refused, [*REFUSED_STEPS, '<a href="/obrashchenie/">напишите обращение</a>'])


def test_page_fits_the_size_budget(client, regions):
    for url in PUBLIC_PAGES:
        assert len(client.get(url).content) < 30 * 1024, url


@pytest.mark.parametrize("url", [*PUBLIC_PAGES, "/files/contacts.csv", "/sitemap.xml"])
def test_head_requests_get_the_headers_without_a_body(client, regions, url):
    # Link checkers and uptime monitors ask with HEAD.
    response = client.head(url)
    assert response.status_code == HTTPStatus.OK
    assert response.content == b""
    assert response["Content-Type"]


def test_the_appeal_form_is_in_the_menu_and_on_home(client, regions):
    """Not only a footer link at the bottom of a long page (y=2259 of 2421 px on a phone)."""
    for url in ("/", "/zashchita-prav/", "/regions/", "/files/"):
        page = client.get(url).content.decode()
        menu = page.split('<nav class="site-nav"')[1].split("</nav>")[0]
        assert '<a href="/obrashchenie/">Написать обращение</a>' in menu, url
    home = client.get("/").content.decode()
    # The written complaint is the last step (legal.md): the card leads to the steps, in order,
    # and offers the form as well, for whoever is unhappy with their treatment.
    assert '<a href="/zashchita-prav/#refused-title">Вам отказали в помощи</a></h2>' in home
    card = home.split("Вам отказали в помощи</a></h2>")[1].split("</li>")[0]
    assert_in_order(
        card,
        [
            "главный врач",
            "«горячая линия» страховой компании",
            "ТФОМС региона, где вы сейчас",
            '<a href="/obrashchenie/">',
        ],
    )
    steps = client.get("/zashchita-prav/").content.decode()
    assert '<h2 id="refused-title">Если вам отказали в медицинской помощи</h2>' in steps
    # The journey is offered right under the heading, before the emergency notice, not only in
    # a card two screens down on a phone (tests/browser/test_first_screen.py measures it).
    top = home.split("</h1>")[1].split('class="notice notice--emergency"')[0]
    assert (
        '<a class="button" href="/v-drugom-regione/">Я не в своём регионе: куда обратиться</a>'
        in top
    )
