"""Wording a citizen reads the same way on every page: one page with its own form of a phrase
reads as a different thing, or as a slip (the facts audit found both kinds)."""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

from appeals.models import Appeal
from legal.models import LegalAct
from omsportal.views import server_error, too_many_requests
from regions.models import Region

from .appeals_support import make_appeal
from .factories import make_company, make_representative, registry_file
from .support import server_error_while_the_database_is_away
from .test_facts import PAGES

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]

MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
# A date in words ends with «г.», as the legal references and the company's licence have it;
# «по данным на 14.05.2026» in figures is a form of its own.
LONG_DATE_WITHOUT_YEAR_MARK = re.compile(rf"\b\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}(?!\s*г\.)")
# The representatives' levels in words («Первый уровень»), as the representatives page heads
# them, never «1 уровень» or «2-й уровень».
LEVEL_IN_FIGURES = re.compile(r"\b\d+(?:-?[а-я]+)?\s+уровн?\w*", re.IGNORECASE)
# Outside «»: the site writes «горячая линия» in quotes, as in its header and footer.
UNQUOTED_HOTLINE = re.compile(r"(?<!«)горяч\w*\s+лини\w*(?!»)", re.IGNORECASE)


@pytest.fixture
def everything(subjects, media_root):
    """Every kind of text the rules are about (the hotline, dates in words, the representatives'
    levels), on every kind of page a citizen reads: content pages, the journey for each kind of
    pair, the appeal pages, the error pages."""
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "representatives.json", verbosity=0)
    perm = Region.objects.get(slug="perm-krai")
    perm.hotline_phone = "8 (342) 211-11-11"  # its card is headed with the phrase
    perm.save()
    for level in (2, 3):
        make_representative(perm, level=level, role=f"Представитель {level} (тест)")
    registry_file(region=perm)
    make_company()  # the footer's licence date
    for act in LegalAct.objects.all():  # «Проверено … г.» on the rights page
        act.checked_on = datetime.date(2026, 12, 1)
        act.save()
    client = Client()
    pages = {url: client.get(url) for url in PAGES}
    pages["/v-drugom-regione/perm-krai/krasnodar-krai/"] = client.get(
        "/v-drugom-regione/perm-krai/krasnodar-krai/"
    )
    appeal, token = make_appeal()
    appeal.answer = "Ответ (тест)."
    appeal.status = Appeal.Status.ANSWERED
    appeal.answered_at = timezone.now()
    appeal.save()
    pages["appeal sent"] = client.get(f"/obrashchenie/otpravleno/?t={token}")
    pages["appeal status"] = client.get(f"/obrashchenie/status/?t={token}")
    pages["appeal not found"] = client.get("/obrashchenie/status/?t=x")
    same_origin = Client(headers={"Sec-Fetch-Site": "same-origin"})
    pages["bad region"] = same_origin.post("/regions/choose/", {"region": "atlantis"})
    pages["cross site"] = Client(headers={"Sec-Fetch-Site": "cross-site"}).post(
        "/regions/choose/", {"region": "moscow"}
    )
    pages["server error"] = server_error(RequestFactory().get("/"))
    pages["database away"] = server_error_while_the_database_is_away(RequestFactory().post("/"))
    pages["too many requests"] = too_many_requests(RequestFactory().post("/regions/choose/"))
    # Each page as a visitor gets it, not an error in its place.
    assert {name: r.status_code for name, r in pages.items() if r.status_code >= 500} == {
        "server error": 500,
        "database away": 503,
    }
    rendered = {name: response.content.decode() for name, response in pages.items()}
    # nginx's own page, shown when no instance of the site answers.
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    rendered["nginx 503"] = re.search(r"return 503 '(.*?)';", conf, re.S)[1]
    return rendered


def test_the_hotline_is_always_written_in_quotes(everything):
    found = {
        name: UNQUOTED_HOTLINE.findall(page.replace("\xa0", " "))
        for name, page in everything.items()
    }
    assert {name: words for name, words in found.items() if words} == {}
    # The check reads what it should: the phrase is on the pages, in its one form.
    assert all("«горяч" in page.lower() for page in everything.values())


def test_the_check_finds_the_other_form():
    assert UNQUOTED_HOTLINE.findall("на горячую линию, на «горячую линию»") == ["горячую линию"]
    assert UNQUOTED_HOTLINE.findall("«Горячая линия» края, горячая\xa0линия") == [
        "горячая\xa0линия"
    ]


def test_dates_in_words_all_end_with_the_year_mark(everything):
    found = {
        name: LONG_DATE_WITHOUT_YEAR_MARK.findall(page.replace("\xa0", " "))
        for name, page in everything.items()
    }
    assert {name: dates for name, dates in found.items() if dates} == {}
    # The check reads what it should: the status page, the files and the footer give dates.
    for name in ("appeal status", "/files/", "/"):
        assert re.search(rf"\d+ (?:{MONTHS}) \d{{4}} г\.", everything[name].replace("\xa0", " "))


def test_the_date_check_finds_a_date_without_the_mark():
    dates = "от 1 декабря 2026 г., от 1 декабря 2026, до 1 ноября, 14.05.2026, 9 сентября 2025"
    assert LONG_DATE_WITHOUT_YEAR_MARK.findall(dates) == ["1 декабря 2026", "9 сентября 2025"]


def test_the_representatives_levels_are_named_in_words(everything):
    found = {
        name: LEVEL_IN_FIGURES.findall(page.replace("\xa0", " "))
        for name, page in everything.items()
    }
    assert {name: levels for name, levels in found.items() if levels} == {}
    # The check reads what it should: the journey's contact cards and the page's headings.
    journey = everything["/v-drugom-regione/perm-krai/krasnodar-krai/"].replace("\xa0", " ")
    for level in ("Первый", "Второй", "Третий"):
        assert f"{level} уровень — " in journey
    representatives = everything["/regions/perm-krai/representatives/"]
    assert "Первый уровень: ответят на вопросы" in representatives


def test_the_level_check_finds_a_level_in_figures():
    levels = "1 уровень — контакт, 2-й уровень, представитель 3 уровня, Первый уровень: вопросы"
    assert LEVEL_IN_FIGURES.findall(levels) == ["1 уровень", "2-й уровень", "3 уровня"]
