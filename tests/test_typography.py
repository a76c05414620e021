"""Russian typography: the filter on its own, and every public page as rendered."""

import re
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.template import Context, Template

from omsportal.typography import PHONE, typograph

from .factories import make_company, make_representative, registry_file

NBSP = "\xa0"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "Звоните 8 (800) 333-60-03.",
            'Звоните <span class="nowrap">8 (800) <span class="nowrap">333-60-03</span></span>.',
        ),
        (f"+7 342{NBSP}200 00 00", '<span class="nowrap">+7 342 200 00 00</span>'),
        ("приказ № 108", f"приказ №{NBSP}108"),
        ("9 сентября 2025 г.", f"9{NBSP}сентября 2025{NBSP}г."),
        ("2026 год", f"2026{NBSP}год"),
        ("20 МБ, 15 минут, 10 %", f"20{NBSP}МБ, 15{NBSP}минут, 10{NBSP}%"),
        ("п. 1 ч. 1 ст. 16", f"п.{NBSP}1 ч.{NBSP}1 ст.{NBSP}16"),
        ("г. Томск, ул. Тестовая, д. 1", f"г.{NBSP}Томск, ул.{NBSP}Тестовая, д.{NBSP}1"),
        (
            "8 (3822) 00-00-00, доб. 123",
            '<span class="nowrap">8 (3822) <span class="nowrap">00-00-00</span></span>, '
            f"доб.{NBSP}123",
        ),
        ("Москва — столица", f"Москва{NBSP}— столица"),
        ("пн – пт", f"пн{NBSP}– пт"),
        ("слово - слово", f"слово{NBSP}— слово"),
        ("Подождите...", "Подождите…"),
        ('Фонд "Пример"', "Фонд «Пример»"),
        ("Фонд &quot;Пример&quot;", "Фонд «Пример»"),
        ('ссылка href="x" в заметке', "ссылка href=«x» в заметке"),
        ('Ответ:"Да"', "Ответ:«Да»"),
        ('Фонд "Мед "Пример""', "Фонд «Мед «Пример»»"),
        ('Он сказал "Да."', "Он сказал «Да.»"),
        ('"2026"', "«2026»"),
        ("её, ещё, всё", "её, ещё, всё"),
        ("09:00-18:00", "09:00-18:00"),
        ("Скорая помощь 103", "Скорая помощь 103"),
    ],
)
def test_text_is_typeset(source, expected):
    assert typograph(source) == expected


def test_tags_attributes_and_code_are_left_alone():
    html = (
        '<a href="tel:+78003336003" title="8 (800) 333-60-03 — звонок">8 (800) 333-60-03</a>'
        '<input value="a - b"><script>var a = "x" - 1;</script><pre>a - b</pre>'
        "<!-- a - b -->"
    )
    out = typograph(html)
    assert out.startswith(
        '<a href="tel:+78003336003" title="8 (800) 333-60-03 — звонок">'
        '<span class="nowrap">8 (800) <span class="nowrap">333-60-03</span></span></a>'
    )
    assert '<input value="a - b"><script>var a = "x" - 1;</script><pre>a - b</pre>' in out
    assert out.endswith("<!-- a - b -->")


def test_quotes_split_by_tags_open_and_close_by_what_precedes_them():
    assert typograph('сайт "<a href="/">Фонд</a>"') == 'сайт «<a href="/">Фонд</a>»'


def test_no_markup_where_text_only_is_allowed():
    html = "<title>8 (800) 333-60-03</title><select><option>8 (800) 333-60-03</select>"
    assert "<span" not in typograph(html)
    assert f"8{NBSP}(800){NBSP}333-60-03" in typograph(html)


def test_applying_it_twice_changes_nothing_more():
    once = typograph("Телефон 8 (800) 333-60-03 — звоните")
    assert typograph(once) == once


def test_filter_tag_in_a_template():
    template = Template("{% load typography %}{% filter typograph %}{{ v }} — да{% endfilter %}")
    assert template.render(Context({"v": "<b>"})) == f"&lt;b&gt;{NBSP}— да"


# Every page, as rendered


class TextNodes(HTMLParser):
    """The text a browser lays out: text nodes of the body, outside script and style."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        # Text in a number's box (site.css: .nowrap, an inline block that moves whole): its
        # spaces are where a number wider than the line may wrap.
        self.boxed: list[str] = []
        self.in_body = False
        self.skip = 0
        self.spans: list[bool] = []  # open spans: a number's box or not

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            self.spans.append(("class", "nowrap") in attrs)
        if tag == "body":
            self.in_body = True
        elif tag in ("script", "style"):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag == "span" and self.spans:
            self.spans.pop()
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if self.in_body and not self.skip:
            (self.boxed if any(self.spans) else self.nodes).append(data)


BREAKABLE_IN_PHONE = re.compile(r"[ \t\r\n]")
BREAKABLE_BEFORE_DASH = re.compile(r"\S[ \t\r\n]+[—–]")


def typography_faults(html: str) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    # In a box, a space is where a number wider than the line wraps; a hyphen is not: a group
    # with one is a box of its own.
    faults = [
        f"breakable hyphen in a number's box: {node!r}"
        for node in parser.boxed
        if "-" in node and re.search(r"\s", node)
    ]
    for node in parser.nodes:
        for match in PHONE.finditer(node):
            if BREAKABLE_IN_PHONE.search(match.group()):
                faults.append(f"breakable space in the phone number {match.group()!r}")
        if BREAKABLE_BEFORE_DASH.search(node):
            faults.append(f"breakable space before a dash: {node.strip()[:80]!r}")
    return faults


@pytest.fixture
def full_site(regions, media_root):
    """Every kind of text the pages show: phones in contacts, hours, files, the company."""
    perm = regions.by_slug["perm-krai"]
    perm.tfoms_phone = "8 (342) 200-00-00"
    perm.health_name = "Орган здравоохранения (тест)"
    perm.health_phone = "+7 342 210-10-10"
    perm.hotline_phone = "8 (342) 211-11-11"
    perm.save()
    make_representative(perm, level=1, phones="8 (342) 200-00-01", hours=[(1, "09:00", "18:00")])
    make_representative(perm, level=2, phones="8 342 200 00 02\n+7 (342) 200-00-03")
    registry_file(title="Базовая программа ОМС на 2026 год", kind="programme", name="bp.pdf")
    registry_file(title="Реестр — Пермский край", region=perm)
    make_company(hotline_hours="пн – пт 9:00–18:00")
    return regions


def public_urls(regions) -> list[str]:
    urls = ["/", "/zashchita-prav/", "/regions/", "/files/", "/konfidencialnost/", "/special/"]
    urls.append("/obrashchenie/")  # a form: options, a textarea
    for region in regions.regions:
        urls += [region.get_absolute_url(), region.get_representatives_url()]
    return urls


@pytest.mark.django_db
def test_typography_holds_on_every_public_page(client, full_site):
    for url in public_urls(full_site):
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        assert typography_faults(response.content.decode()) == [], url
    not_found = client.get("/no-such-page/")
    assert typography_faults(not_found.content.decode()) == []


@pytest.mark.django_db
def test_phone_numbers_on_pages_are_kept_whole(client, full_site):
    page = client.get("/regions/perm-krai/representatives/").content.decode()
    for number in [
        '8 (800) <span class="nowrap">333-60-03</span>',
        '8 (342) <span class="nowrap">200-00-01</span>',
        "8 342 200 00 02",
    ]:
        assert f'<span class="nowrap">{number}</span>' in page, number


def test_the_check_finds_what_it_looks_for():
    html = "<body><p>Звоните 8 (800) 333-60-03 — поможем</p></body>"
    assert len(typography_faults(html)) == 2  # the phone, the dash
    assert typography_faults(typograph(html)) == []
