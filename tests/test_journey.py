"""«Я не в своём регионе»: the two questions and the answer page for each pair of regions."""

import re
from html.parser import HTMLParser
from http import HTTPStatus
from xml.etree import ElementTree

import pytest
from django.test import Client
from django.utils.html import strip_tags

from regions.models import Region
from regions.zones import zone_label
from representatives.hours import group_days, parse_hours, shifted_times
from tests.support import assert_in_order, clear_caches

from .factories import WORKDAYS, make_representative, registry_file

pytestmark = pytest.mark.django_db

FORM = "/v-drugom-regione/"
TOMSK = "/v-drugom-regione/moscow/tomsk-oblast/"
KRASNODAR = "/v-drugom-regione/perm-krai/krasnodar-krai/"
OTHER = "/v-drugom-regione/other-region/north-ossetia-alania/"
AT_HOME = "/v-drugom-regione/tomsk-oblast/tomsk-oblast/"
TFOMS_NAME = "Территориальный фонд ОМС Томской области (тест)"
TFOMS_SITE = "https://tfoms.example.ru/"


def text(response) -> str:
    """What a reader sees in <main>, as one line of plain text."""
    page = response.content.decode()
    main = page[page.index("<main") : page.index("</main>")]
    return re.sub(r"\s+", " ", strip_tags(main))


def choose(client, slug: str) -> None:
    client.post("/regions/choose/", {"region": slug, "next": "/"})


@pytest.fixture
def tomsk_tfoms(subjects):
    Region.objects.filter(slug="tomsk-oblast").update(tfoms_name=TFOMS_NAME, tfoms_site=TFOMS_SITE)
    clear_caches()  # update() sends no signal


@pytest.fixture
def moscow_representatives(subjects):
    moscow = Region.objects.get(slug="moscow")
    make_representative(
        moscow, level=1, role="Контакт-центр (тест)", phones="8 (495) 000-00-00", hours=WORKDAYS
    )
    make_representative(moscow, level=3, role="Эксперт (тест)", hours=[(6, "10:00", "14:00")])
    return moscow


# The form


def test_the_form_asks_both_questions_with_every_choice(client, subjects):
    response = client.get(FORM)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert '<form class="journey-form" method="get" action="/v-drugom-regione/otvet/">' in page
    assert "Где выдан ваш полис ОМС?" in page and "Где вы сейчас?" in page
    policy = re.search(r'<select name="policy".*?</select>', page, re.S).group()
    place = re.search(r'<select name="place".*?</select>', page, re.S).group()
    policy_names = re.findall(r'<option value="[^"]+"[^>]*>([^<]+)</option>', policy)
    assert policy_names == [r.name for r in Region.objects.all()] + [
        "Другая страховая компания или другой регион"
    ]
    # A Perm policy of another insurer is not one of ours: the hint says where it goes.
    assert "Если полис выдала другая страховая компания" in page
    assert len(re.findall(r'<option value="[^"]+"', place)) == 89
    assert ">Республика Северная Осетия" in place and "Алания</option>" in place
    assert "<script" not in page


def test_the_form_suggests_the_confirmed_region_as_where_the_policy_was_issued(client, subjects):
    choose(client, "perm-krai")
    page = client.get(FORM).content.decode()
    assert '<option value="perm-krai" selected>Пермский край</option>' in page
    # A newcomer gets the page kept for newcomers, not the one kept for this visitor.
    newcomer = Client().get(FORM)
    assert "public" in newcomer["Cache-Control"]
    assert '<option value="perm-krai" selected>' not in newcomer.content.decode()
    place = re.search(r'<select name="place".*?</select>', page, re.S).group()
    assert '<option value="" selected>Выберите регион</option>' in place


@pytest.mark.parametrize(
    ("geo", "option"),
    [
        ("RU-TOM", '<option value="tomsk-oblast" selected>Томская область</option>'),
        # Not one of the company's 23 regions, and still where the person is.
        ("RU-SE", '<option value="north-ossetia-alania" selected>Республика Северная Осетия'),
    ],
)
def test_the_form_suggests_where_a_trusted_geo_header_says_the_person_is(
    client, subjects, settings, geo, option
):
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    page = client.get(FORM, HTTP_X_GEO_REGION=geo).content.decode()
    assert option in page
    policy = re.search(r'<select name="policy".*?</select>', page, re.S).group()
    assert '<option value="" selected>Выберите регион</option>' in policy
    # The page is kept per header value: the next visitor, elsewhere, is not told this place.
    other = client.get(FORM, HTTP_X_GEO_REGION="RU-KDA").content.decode()
    assert option not in other
    assert '<option value="krasnodar-krai" selected>' in other


def test_submitting_the_form_leads_to_the_pairs_own_address(client, subjects):
    response = client.get("/v-drugom-regione/otvet/", {"policy": "moscow", "place": "tomsk-oblast"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == TOMSK


def test_a_policy_from_another_region_has_an_address_too(client, subjects):
    response = client.get(
        "/v-drugom-regione/otvet/", {"policy": "other-region", "place": "north-ossetia-alania"}
    )
    assert response["Location"] == OTHER


def test_a_half_answered_form_comes_back_saying_what_is_missing(client, subjects):
    response = client.get("/v-drugom-regione/otvet/", {"policy": "moscow", "place": ""})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    # Above the form, only what is missing, leading to its list.
    summary = page.split('id="journey-errors">')[1].split("</p>")[0]
    assert summary == '<a href="#id_place">Выберите регион, где вы сейчас.</a>'
    both = client.get("/v-drugom-regione/otvet/", {"policy": "", "place": ""}).content.decode()
    assert 'id="journey-errors">Выберите оба региона из списков.</p>' in both
    assert '<option value="moscow" selected>' in page
    assert 'aria-invalid="true"' in page
    # Beside the empty list, which one it is, in the words of its question; the title says
    # there is an error, as the appeal form's does, for the screen reader reading it first.
    assert "Выберите регион, где вы сейчас." in page
    assert "Обязательное поле" not in page
    assert "<title>Ошибка: " in page


def test_the_form_offers_its_own_question_not_the_region_prompt(client, subjects):
    """«Ваш регион — город Москва? Да, верно / Выбрать другой» over the form asked its first
    question twice, and on a 320 px phone pushed every field below the first screen. As on the
    pages about one region, «Выбрать свой регион» instead, back to the form."""
    page = client.get(FORM).content.decode()
    assert "Да, верно" not in page and "Ваш регион" not in page
    link = '<p class="region-current"><a href="/regions/?next=/v-drugom-regione/">Выбрать свой'
    assert link in page
    # The form back with a mistake: the link leads to the form, not to its target.
    mistaken = client.get("/v-drugom-regione/otvet/", {"policy": "moscow", "place": ""})
    assert link in mistaken.content.decode()
    changing = client.get("/v-drugom-regione/moscow/tomsk-oblast/izmenit/").content.decode()
    assert "Да, верно" not in changing
    assert 'href="/regions/?next=/v-drugom-regione/moscow/tomsk-oblast/izmenit/"' in changing


def test_the_forms_target_without_answers_goes_to_the_form(client, subjects):
    assert client.get("/v-drugom-regione/otvet/")["Location"] == FORM


@pytest.mark.parametrize("url", ["/", "/zashchita-prav/", "/regions/", "/regions/moscow/", FORM])
def test_every_page_links_to_the_form_in_the_header(client, subjects, url):
    page = client.get(url).content.decode()
    nav = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group()
    assert '<a href="/v-drugom-regione/">Я не в своём регионе</a>' in nav


@pytest.mark.parametrize("url", ["/", "/zashchita-prav/", "/regions/"])
def test_home_rights_and_region_list_lead_to_the_form(client, subjects, url):
    main = client.get(url).content.decode().split("<main", 1)[1]
    assert 'href="/v-drugom-regione/"' in main


# The answer page


def test_the_muscovite_in_tomsk_reads_emergency_first_then_the_steps(
    client, tomsk_tfoms, moscow_representatives
):
    response = client.get(TOMSK)
    assert response.status_code == HTTPStatus.OK
    page = text(response)
    order = [
        "Полис выдан в городе Москве, вы в Томской области",
        "103",
        "112",
        "без полиса",
        "Куда обратиться в Томской области",
        TFOMS_NAME,
        "Что взять с собой",
        "свидетельство о рождении",
        "Если отказали в помощи",
        # The steps are an order, as the rights page says: a list alone read as alternatives.
        "Обращайтесь по порядку:",
        "К главному врачу",
        "На нашу «горячую линию» 8 (800) 333-60-03",
        "В ТФОМС Томской области",
        "письменное обращение",
        "Кому звонить",
    ]
    assert_in_order(page, order)
    assert f'href="{TFOMS_SITE}"' in response.content.decode()
    # The appeal form opens with both regions chosen: a shared link's reader picks nothing again.
    appeal = '<a href="/obrashchenie/?region=moscow&amp;mesto=70">письменное обращение</a>'
    assert appeal in response.content.decode()
    # What to bring is what legal.md backs, nothing more (a referral is not in it).
    assert "направление" not in page
    # The law as staff keep it in admin, not as a copy in the template.
    assert "Основание: п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона от 29.11.2010" in page
    extra = (
        "только в территориальной программе ОМС города Москвы, в Томской области не гарантирована"
    )
    assert extra in page


def test_reception_hours_are_given_in_both_local_times(client, moscow_representatives, subjects):
    page = text(client.get(TOMSK))
    assert "В Томской области на 4 часа позже, чем в городе Москве" in page
    assert "МСК+4 (UTC+7) и МСК (UTC+3)" in page
    # One statement with the other time in brackets: «… по времени города Москвы — 13:00–22:00
    # по времени Томской области» read as two joined by a dash.
    assert (
        "Понедельник — пятница: 09:00–18:00 по времени города Москвы "
        "(в Томской области — 13:00–22:00)"
    ) in page
    assert "Суббота: 10:00–14:00 по времени города Москвы (в Томской области — 14:00–18:00)" in page


def test_no_time_difference_without_hours_to_explain(client, subjects):
    # The fixtures give Moscow the hotline only, whose hours are unknown: a sentence about the
    # time in Tomsk would point at hours the page does not show.
    page = text(client.get(TOMSK))
    assert "8 (800) 333-60-03" in page
    assert "Часы приёма" not in page
    assert "на 4 часа позже" not in page


def test_a_region_outside_the_23_gets_everything_about_it(client, subjects):
    perm = Region.objects.get(slug="perm-krai")
    make_representative(perm, level=2, role="Представитель (тест)", hours=WORKDAYS)
    page = text(client.get(KRASNODAR))
    assert "Полис выдан в Пермском крае, вы в Краснодарском крае" in page
    assert "Куда обратиться в Краснодарском крае" in page
    # No fund contacts for a place the company does not serve: no guess, the hotline instead.
    assert (
        "Территориальный фонд ОМС (ТФОМС) Краснодарского края. Его контактов на нашем сайте "
        "пока нет: подскажем их по «горячей линии» 8 (800) 333-60-03"
    ) in page
    assert "В ТФОМС Краснодарского края: его телефон подскажем по «горячей линии»" in page
    assert "В Краснодарском крае на 2 часа раньше, чем в Пермском крае" in page
    assert "09:00–18:00 по времени Пермского края (в Краснодарском крае — 07:00–16:00)" in page
    assert "страховые представители Пермского края" in page


def test_someone_away_from_home_is_told_about_planned_care_and_moving(client, subjects):
    page = text(client.get(TOMSK))
    planned = "Если лечение или обследование плановое, сначала позвоните на нашу «горячую линию»"
    assert planned in page
    # Verified in legal.md (п. 3 ч. 1 ст. 16), and cited.
    moving = "Страховую компанию можно сменить раз в год, до 1 ноября, или чаще — при переезде"
    assert moving in page
    assert "п. 3 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона" in page
    assert "Если вы переехали насовсем" not in text(client.get("/v-drugom-regione/moscow/moscow/"))


def test_a_short_fund_name_is_explained(client, subjects):
    # tfoms.csv gives seven funds only as «ТФОМС …»: the word is spelt out once.
    Region.objects.filter(slug="tomsk-oblast").update(tfoms_name="ТФОМС Томской области")
    clear_caches()  # update() sends no signal
    page = text(client.get(TOMSK))
    assert "ТФОМС Томской области — территориальный фонд ОМС." in page
    assert "ТФОМС Томской области: ТФОМС Томской области" not in page


def test_a_fund_whose_place_ends_in_brackets_gets_no_second_pair(client, subjects):
    """«ТФОМС Республики Саха (Якутия) (территориальный фонд ОМС)» read as a slip."""
    page = text(client.get("/v-drugom-regione/other-region/sakha-yakutia/"))
    assert "Территориальный фонд ОМС (ТФОМС) Республики Саха (Якутия)." in page
    assert ") (" not in page


def fund_step(response) -> str:
    """The fund's step of «Куда обратиться», as marked up."""
    page = response.content.decode()
    return page.split('<h2 id="where-title">')[1].split("</ul>")[0].split("<li>")[-1]


def test_a_fund_without_a_name_in_the_data_is_described_not_named(client, subjects):
    """«ТФОМС Краснодарского края» in bold read as the fund's proper name, but it is put
    together from the place's case form: only a name from the fund data is set in bold."""
    step = fund_step(client.get(KRASNODAR))
    assert step.startswith("Территориальный фонд ОМС (ТФОМС) Краснодарского края.")
    assert "<strong>" not in step
    # One of the 23 whose fund data has a site but no name: described the same way.
    Region.objects.filter(slug="tomsk-oblast").update(tfoms_name="")
    clear_caches()  # update() sends no signal
    step = fund_step(client.get(TOMSK))
    assert step.startswith("Территориальный фонд ОМС (ТФОМС) Томской области. Сайт: ")
    assert "<strong>" not in step


def test_a_funds_name_from_the_data_is_set_in_bold(client, subjects):
    Region.objects.filter(slug="tomsk-oblast").update(tfoms_name=TFOMS_NAME)
    clear_caches()  # update() sends no signal
    assert fund_step(client.get(TOMSK)).startswith(f"<strong>{TFOMS_NAME}</strong>.")


def test_the_funds_site_ends_its_sentence(client, subjects):
    # «Сайт: https://… По данным на …»: the next sentence ran on after the link.
    page = client.get(TOMSK).content.decode()
    site = page.split("Сайт: ", 1)[1]
    assert site.split("</a>", 1)[1].startswith(". ")


def refused_section(response) -> str:
    """«Если отказали в помощи» of an answer page."""
    return response.content.decode().split('<h2 id="refused-title">')[1].split("</section>")[0]


@pytest.mark.parametrize("site", [TFOMS_SITE, ""])
def test_someone_refused_is_given_the_funds_phone_where_it_is_known(client, subjects, site):
    """A person being turned away at a clinic needs a number to call there and then: the
    fund's phone, once staff entered it, and never «we will tell you its contacts»."""
    Region.objects.filter(slug="tomsk-oblast").update(
        tfoms_name=TFOMS_NAME, tfoms_site=site, tfoms_phone="8 (3822) 20-00-00"
    )
    clear_caches()  # update() sends no signal
    section = refused_section(client.get(TOMSK))
    steps = re.sub(r"\s+", " ", strip_tags(section))
    assert "В ТФОМС Томской области: 8 (3822) 20-00-00" in steps
    assert "подскажем" not in steps.split("В ТФОМС")[1]
    assert 'href="tel:+73822200000"' in section
    assert (f"8 (3822) 20-00-00, сайт {site}." in steps) == bool(site)


def test_someone_refused_where_only_the_funds_site_is_known_is_given_the_hotline(client, subjects):
    """Tomsk is one of the 23 and its fund's site is shipped (tfoms.csv), its phone is not: the
    step still gives a number to call there and then, and the site beside it."""
    section = refused_section(client.get(TOMSK))
    steps = re.sub(r"\s+", " ", strip_tags(section))
    assert (
        "В ТФОМС Томской области: его телефон подскажем по «горячей линии» 8 (800) 333-60-03, "
        "сайт https://www.ttfoms.tomsk.ru/."
    ) in steps
    where = text(client.get(TOMSK)).split("Куда обратиться")[1].split("Что взять с собой")[0]
    assert "Телефон фонда подскажем по «горячей линии» 8 (800) 333-60-03." in where


def test_planned_care_sends_another_insurers_policy_to_that_insurer(client, subjects):
    """Our hotline plans care for our policies; another insurer's customer calls that insurer
    first, as the rest of the page tells them."""
    page = text(client.get(OTHER))
    assert "сначала позвоните на нашу «горячую линию»" not in page
    assert (
        "Если лечение или обследование плановое, сначала позвоните в свою страховую компанию: "
        "подскажут, куда обратиться. Не знаете её номер — позвоните на нашу «горячую линию»"
    ) in page


def test_the_policy_regions_own_hotline_is_among_whom_to_call(client, subjects):
    Region.objects.filter(slug="perm-krai").update(hotline_phone="8 (342) 211-11-11")
    clear_caches()  # update() sends no signal
    response = client.get(KRASNODAR)
    call = response.content.decode().split('<h2 id="call-title">')[1].split("</section>")[0]
    assert "«Горячая линия» Пермского края" in call
    assert 'href="tel:+73422111111"' in call
    assert "«Горячая линия» Пермского края" not in text(client.get(TOMSK))


def test_level_two_is_described_as_legal_md_backs_it(client, subjects):
    """Informing and accompanying; «accompanies you while you are treated» overstates."""
    make_representative(Region.objects.get(slug="perm-krai"), level=2, hours=WORKDAYS)
    page = text(client.get(KRASNODAR))
    assert "Второй уровень — информирование и сопровождение, профилактика, обращения" in page
    assert "при получении помощи" not in page


def test_a_policy_of_another_insurer_says_the_site_cannot_know_the_insurer(client, subjects):
    page = text(client.get(OTHER))
    assert "Полис другой страховой компании, вы в Республике Северная Осетия — Алания" in page
    assert "Мы не знаем, какая страховая компания выдала ваш полис" in page
    assert "На «горячую линию» страховой компании, которая выдала ваш полис" in page
    assert "Куда обратиться в Республике Северная Осетия — Алания" in page
    assert "103" in page and "Что взять с собой" in page
    assert "Страховые представители" not in page
    # The policy may have been issued here, by another insurer: nothing assumes it was not.
    assert (
        "Если ваш полис выдан в Республике Северная Осетия — Алания — вся помощь, которая "
        "входит в территориальную программу ОМС Республики Северная Осетия — Алания"
    ) in page
    assert "не гарантирована" not in page and "в регионе, где выдан полис" not in page


def test_at_home_the_page_is_the_in_region_version(client, tomsk_tfoms):
    tomsk = Region.objects.get(slug="tomsk-oblast")
    registry_file(title="Реестр медицинских организаций Томской области (тест)", region=tomsk)
    make_representative(tomsk, level=2, role="Представитель (тест)", hours=WORKDAYS)
    response = client.get(AT_HOME)
    page = text(response)
    assert "Вы в своём регионе: Томская область" in page
    # What a search engine shows of it: not «выдан в Томской области, а вы в Томской области».
    description = re.search(r'<meta name="description" content="([^"]*)"', response.text)[1]
    assert description.startswith("Полис ОМС выдан в Томской области, и вы там же:")
    assert "Вся помощь, которая входит в территориальную программу ОМС Томской области" in page
    assert "Реестр медицинских организаций Томской области (тест)" in page
    assert "PDF" in page
    assert "Понедельник — пятница: 09:00–18:00" in page
    assert "по времени" not in page
    assert "не гарантирована" not in page


def test_the_registry_shown_is_the_places_not_the_policys(client, subjects, media_root):
    registry_file(title="Реестр Томской области (тест)", region=Region.objects.get(code="70"))
    registry_file(title="Реестр города Москвы (тест)", region=Region.objects.get(code="77"))
    page = text(client.get(TOMSK))
    assert "Реестр Томской области (тест)" in page
    assert "Реестр города Москвы (тест)" not in page


class ChoicesAndLinks(HTMLParser):
    """The links of a page's <main>, by their text, and the options chosen in each list."""

    def __init__(self):
        super().__init__()
        self.links: dict[str, str] = {}
        self.selected: dict[str, list[str]] = {}
        self._href = self._select = None
        self._in_main = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_main = self._in_main or tag == "main"
        if tag == "a" and self._in_main:
            self._href = attrs.get("href")
        elif tag == "select":
            self._select = attrs["name"]
            self.selected[self._select] = []
        elif tag == "option" and "selected" in attrs:
            self.selected[self._select].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False

    def handle_data(self, data):
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


def parsed(response) -> ChoicesAndLinks:
    parser = ChoicesAndLinks()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize(
    ("url", "again"),
    [
        ("/v-drugom-regione/moscow/atlantis/", "/v-drugom-regione/otvet/?policy=moscow&place="),
        (
            "/v-drugom-regione/atlantis/tomsk-oblast/",
            "/v-drugom-regione/otvet/?policy=&place=tomsk-oblast",
        ),
        # Not a policy region of the company.
        (
            "/v-drugom-regione/krasnodar-krai/tomsk-oblast/",
            "/v-drugom-regione/otvet/?policy=&place=tomsk-oblast",
        ),
        # Neither half known: the form as it is for everyone.
        ("/v-drugom-regione/atlantis/narnia/", "/v-drugom-regione/"),
    ],
)
def test_an_unknown_pair_is_a_russian_404_leading_back_to_the_form(client, subjects, url, again):
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    # The tab and the heading say the same: the title said «Страница не найдена».
    assert "<title>Такой пары регионов нет — " in page
    assert "<h1>Такой пары регионов нет</h1>" in page
    assert parsed(response).links["Выбрать регионы заново"] == again
    main = page[page.index("<main") : page.index("</main>")]
    assert "atlantis" not in main and "narnia" not in main


@pytest.mark.parametrize(
    ("url", "policy", "place"),
    [
        ("/v-drugom-regione/moscow/atlantis/", "moscow", ""),
        ("/v-drugom-regione/other-region/atlantis/", "other-region", ""),
        ("/v-drugom-regione/atlantis/tomsk-oblast/", "", "tomsk-oblast"),
        ("/v-drugom-regione/krasnodar-krai/north-ossetia-alania/", "", "north-ossetia-alania"),
        ("/v-drugom-regione/perm-krai/atlantis/izmenit/", "perm-krai", ""),
    ],
)
def test_a_bad_pair_leads_to_the_form_with_the_half_that_was_right_chosen(
    client, subjects, url, policy, place
):
    response = client.get(url)
    assert response.status_code == HTTPStatus.NOT_FOUND
    link = parsed(response).links["Выбрать регионы заново"]
    form = client.get(link)
    chosen = parsed(form).selected
    # The known answer is chosen; the other list waits on «Выберите регион», saying what to
    # choose in the words of its question.
    assert chosen == {"policy": [policy], "place": [place]}
    missing = "Выберите регион, где вы сейчас." if policy else "Выберите регион, где выдан"
    assert missing in text(form)
    page = form.content.decode()
    assert "atlantis" not in page[page.index("<main") : page.index("</main>")]


@pytest.mark.parametrize(
    ("url", "policy", "place"),
    [(KRASNODAR, "perm-krai", "krasnodar-krai"), (OTHER, "other-region", "north-ossetia-alania")],
)
def test_from_an_answer_one_answer_is_changed_and_the_other_kept(
    client, subjects, url, policy, place
):
    choose(client, "moscow")  # the pair's own answers win over the visitor's region
    link = f'<a href="{url}izmenit/">Выбрать другие регионы</a>'
    assert link in client.get(url).content.decode()
    response = client.get(f"{url}izmenit/")
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert f'<option value="{policy}" selected>' in page
    assert f'<option value="{place}" selected>' in page
    assert page.count(" selected>") == 2
    assert '<meta name="robots" content="noindex">' in page
    assert '<meta name="robots"' not in client.get(FORM).content.decode()
    response = client.get("/v-drugom-regione/perm-krai/atlantis/izmenit/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Такой пары регионов нет" in response.content.decode()


@pytest.mark.parametrize("url", [TOMSK, KRASNODAR, OTHER, AT_HOME])
def test_the_answer_is_the_same_for_everyone_and_sets_no_cookie(client, subjects, url):
    first = client.get(url)
    assert not first.cookies
    assert "public" in first["Cache-Control"] and "s-maxage" in first["Cache-Control"]
    choose(client, "perm-krai")
    # A query string changes nothing: it is sent to the page's one address.
    with_session = client.get(url + "?policy=moscow&utm_source=test", follow=True)
    assert with_session.redirect_chain == [(url, 301)]
    assert with_session.content == first.content


def test_the_answer_prints_no_per_visitor_data(client, subjects, settings):
    settings.REGION_HEADER = "HTTP_X_GEO_REGION"
    choose(client, "perm-krai")
    page = client.get(TOMSK, HTTP_X_GEO_REGION="RU-SAM").content.decode()
    assert "Ваш регион" not in page
    assert "Самарская" not in page and "Пермск" not in page


@pytest.mark.parametrize("count", [1, 30])
def test_the_answer_costs_the_same_queries_however_much_content(
    client, subjects, media_root, django_assert_num_queries, count
):
    moscow, tomsk = Region.objects.get(code="77"), Region.objects.get(code="70")
    for number in range(count):
        make_representative(moscow, level=1 + number % 3, hours=WORKDAYS)
        registry_file(title=f"Реестр № {number} (тест)", region=tomsk)
    clear_caches()
    # The content version, the company record (footer), the region index, the subject index,
    # the files of the place, the representatives of the policy's region and their hours, the
    # legal acts cited and their provisions; then the version only.
    with django_assert_num_queries(9):
        assert client.get(TOMSK).status_code == HTTPStatus.OK
    with django_assert_num_queries(1):
        assert client.get(TOMSK).status_code == HTTPStatus.OK


def test_the_address_can_be_sent_without_javascript(client, subjects, settings):
    settings.SITE_URL = "https://oms.example.ru"
    page = client.get(TOMSK).content.decode()
    assert "https://oms.example.ru/v-drugom-regione/moscow/tomsk-oblast/</span>" in page
    body = "https%3A%2F%2Foms.example.ru%2Fv-drugom-regione%2Fmoscow%2Ftomsk-oblast%2F"
    assert re.search(r'href="mailto:\?subject=[^"]+&amp;body=' + body + '"', page)


# The region prompt and the region list


def test_the_prompt_says_which_region_it_asks_about(client, subjects):
    page = client.get("/").content.decode()
    assert "Ваш регион\u00a0— город Москва?" in page
    assert "регион, где выдан ваш полис ОМС" in page


def test_the_region_list_ends_with_a_way_out_for_every_other_region(client, subjects):
    page = client.get("/regions/").content.decode()
    end = page.index("Моего региона нет в списке")
    assert end > page.index("Чеченская Республика")
    assert "23 региона, где наша компания выдаёт полисы ОМС" in page
    assert 'href="/v-drugom-regione/"' in page[end:]


def test_each_region_in_the_list_links_to_its_page_and_the_chosen_one_is_marked(client, subjects):
    page = client.get("/regions/").content.decode()
    for region in Region.objects.all():
        assert f'href="/regions/{region.slug}/"' in page
    assert "ваш регион</span>" not in page
    choose(client, "tomsk-oblast")
    page = client.get("/regions/").content.decode()
    assert page.count("ваш регион</span>") == 1
    marked = page.index("ваш регион</span>")
    assert page.rindex("Томская область", 0, marked) > page.rindex("Смоленская область", 0, marked)


def test_the_rights_page_links_the_visitors_region_page(client, subjects):
    choose(client, "perm-krai")
    page = client.get("/zashchita-prav/").content.decode()
    assert '<a href="/regions/perm-krai/">Пермский край</a>' in page


# Sitemap, time zones


def test_sitemap_lists_the_form_and_every_pair(client, subjects, settings):
    tree = ElementTree.fromstring(client.get("/sitemap.xml").content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = {loc.text for loc in tree.findall("s:url/s:loc", ns)}
    assert f"{settings.SITE_URL}/v-drugom-regione/" in locations
    pairs = {loc for loc in locations if re.search(r"/v-drugom-regione/[^/]+/[^/]+/$", loc)}
    assert len(pairs) == 23 * 89
    assert f"{settings.SITE_URL}{TOMSK}" in pairs and f"{settings.SITE_URL}{KRASNODAR}" in pairs


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Europe/Moscow", "МСК (UTC+3)"),
        ("Asia/Tomsk", "МСК+4 (UTC+7)"),
        ("Europe/Kaliningrad", "МСК−1 (UTC+2)"),
        ("Asia/Kamchatka", "МСК+9 (UTC+12)"),
    ],
)
def test_zones_are_named_as_people_name_them(zone, label):
    assert zone_label(zone) == label


def test_hours_shifted_past_midnight_say_which_day():
    weekdays, saturday = group_days(parse_hours("пн-пт 09:00-18:00; сб 10:00-14:00"))
    assert shifted_times(weekdays, 9 * 60) == "с 18:00 до 03:00 следующего дня"
    assert shifted_times(weekdays, -10 * 60) == "с 23:00 предыдущего дня до 08:00"
    assert shifted_times(saturday, 4 * 60) == "14:00–18:00"
