import json
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from company.models import Company
from regions.models import Region
from representatives.hours import Interval, format_hours, group_days, parse_hours
from representatives.models import Level, Representative
from tests.support import REFUSED_STEPS, assert_in_order, clear_caches

from .factories import WORKDAYS, make_representative

pytestmark = pytest.mark.django_db

FIXTURES = settings.BASE_DIR / "fixtures"
REGION_SLUGS = [
    item["fields"]["slug"] for item in json.loads((FIXTURES / "regions.json").read_text())
]


def page(client, slug: str) -> str:
    response = client.get(reverse("representatives:region", args=[slug]))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def section(html: str, level: int) -> str:
    start = html.index(f'id="level{level}-title"')
    end = html.find("</section>", start)
    return html[start:end]


@pytest.fixture
def perm(regions):
    return regions.by_slug["perm-krai"]


@pytest.fixture
def shipped(regions):
    call_command("loaddata", FIXTURES / "representatives.json", verbosity=0)


@pytest.mark.parametrize("slug", REGION_SLUGS)
def test_every_region_has_a_page_with_the_hotline(client, shipped, slug):
    html = page(client, slug)
    assert 'href="tel:+78003336003"' in section(html, 1)
    assert Region.objects.get(slug=slug).name_of in html


def test_shipped_fixture_has_the_hotline_for_every_region_and_loads_twice(shipped):
    call_command("loaddata", FIXTURES / "representatives.json", verbosity=0)
    assert Representative.objects.count() == Region.objects.count() == 23
    assert set(Representative.objects.values_list("level", "code", "phones")) == {
        (1, "hotline", "8 (800) 333-60-03")
    }
    # Only what is certain: no people, no addresses, no e-mails.
    assert not Representative.objects.exclude(person="", address="", email="").exists()


def test_contacts_are_grouped_by_level(client, perm):
    make_representative(perm, level=1, role="Региональный контакт-центр")
    make_representative(perm, level=2, role="Сопровождение в поликлинике", hours=WORKDAYS)
    make_representative(perm, level=3, role="Эксперт по жалобам", person="Тестов Тест Тестович")
    html = page(client, "perm-krai")
    assert "Региональный контакт-центр" in section(html, 1)
    assert "Сопровождение в поликлинике" in section(html, 2)
    assert "Эксперт по жалобам" in section(html, 3)
    assert "Тестов Тест Тестович" in section(html, 3)
    assert "диспансеризации" in section(html, 2)
    assert "экспертизу качества медицинской помощи" in section(html, 3)
    assert "пока не опубликованы" not in section(html, 2) + section(html, 3)


def test_a_region_without_contacts_shows_the_hotline_and_what_each_level_does(client, perm):
    html = page(client, "perm-krai")
    assert "Единая «горячая линия»" in section(html, 1)
    assert 'href="tel:+78003336003"' in section(html, 1)
    assert "отвечают на вопросы" in section(html, 1)
    for level in (2, 3):
        assert "пока не опубликованы" in section(html, level)
        assert 'href="tel:+78003336003"' in section(html, level)


def test_the_hotline_is_not_shown_twice_when_a_contact_lists_it(client, shipped):
    html = section(page(client, "perm-krai"), 1)
    assert html.count('href="tel:+78003336003"') == 1
    assert "Контакт-центр: единая «горячая линия»" in html


def test_regional_hotline_is_shown_when_set(client, perm):
    Region.objects.filter(pk=perm.pk).update(hotline_phone="8 (342) 211-11-11")
    clear_caches()
    html = section(page(client, "perm-krai"), 1)
    assert 'href="tel:+73422111111"' in html
    assert 'href="tel:+78003336003"' in html


def test_phones_are_tel_links_and_email_is_a_mailto_link(client, perm):
    make_representative(
        perm, phones="8 (342) 200-00-00\n+7 342 210-10-10", email="test@example.com"
    )
    html = section(page(client, "perm-krai"), 2)
    assert (
        '<a href="tel:+73422000000"><span class="nowrap">8 (342) '
        '<span class="nowrap">200-00-00</span></span></a>'
    ) in html
    assert (
        '<a href="tel:+73422101010"><span class="nowrap">+7 342 '
        '<span class="nowrap">210-10-10</span></span></a>'
    ) in html
    assert '<a href="mailto:test@example.com">' in html


def test_a_phone_with_an_extension_dials_the_extension_too(client, perm):
    make_representative(perm, phones="8 (342) 200-00-00 доб. 305")
    html = section(page(client, "perm-krai"), 2)
    assert 'href="tel:+73422000000,305"' in html
    assert "доб.\xa0305" in html  # shown as written, for a phone that cannot dial it


@pytest.mark.parametrize(
    ("slug", "label"), [("perm-krai", "МСК+2 (UTC+5)"), ("tomsk-oblast", "МСК+4 (UTC+7)")]
)
def test_reception_hours_are_in_local_time_with_the_offset_named(client, regions, slug, label):
    hours = [*WORKDAYS, (6, "10:00", "14:00")]
    make_representative(regions.by_slug[slug], hours=hours)
    html = section(page(client, slug), 2)
    assert f"время местное\xa0— {label}" in html
    assert "Понедельник\xa0— пятница: 09:00–18:00" in html
    assert "Суббота: 10:00–14:00" in html


NO_CHANNEL = {"phones": "", "email": "", "address": ""}


@pytest.mark.parametrize("phones", ["", " \n ; "], ids=["empty", "blank"])
def test_a_contact_saved_without_a_way_to_reach_it_leaves_the_hotline_offered(client, perm, phones):
    # Saved before validation asked for a channel, or by a bulk write: no clean() ran.
    make_representative(perm, level=1, role="Центр без телефона", **NO_CHANNEL | {"phones": phones})
    make_representative(perm, level=2, role="Офис без адреса", person="Тестов Т. Т.", **NO_CHANNEL)
    make_representative(perm, level=3, role="Эксперт без почты", **NO_CHANNEL)
    make_representative(perm, level=3, role="Эксперт с телефоном")
    html = page(client, "perm-krai")
    for name in ("Центр без телефона", "Офис без адреса", "Тестов Т. Т.", "Эксперт без почты"):
        assert name not in html
    assert "Единая «горячая линия»" in section(html, 1)
    assert "пока не опубликованы" in section(html, 2)
    assert 'href="tel:+78003336003"' in section(html, 2)
    assert "Эксперт с телефоном" in section(html, 3)
    assert "пока не опубликованы" not in section(html, 3)


def test_inactive_contacts_are_not_shown(client, perm):
    make_representative(perm, role="Скрытый контакт", is_active=False)
    assert "Скрытый контакт" not in page(client, "perm-krai")


def test_unknown_region_is_404(client, regions):
    response = client.get("/regions/atlantis/representatives/")
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["representatives:region", "regions:detail"])
def test_region_pages_are_private_for_a_visitor_who_chose_a_region(client, regions, name):
    client.post(reverse("regions:choose"), {"region": "perm-krai", "next": "/"})
    assert client.cookies.get(settings.SESSION_COOKIE_NAME)
    response = client.get(reverse(name, args=["perm-krai"]))
    assert response["Cache-Control"] == "private, max-age=0"
    assert not response.cookies


@pytest.mark.parametrize("count", [1, 200])
def test_constant_number_of_queries(client, perm, django_assert_num_queries, count):
    for number in range(count):
        make_representative(perm, level=number % 3 + 1, hours=WORKDAYS)
    Region.objects.index()  # warm, as on a running site
    Company.objects.current()
    with django_assert_num_queries(3):  # the content version, the contacts, their hours
        response = client.get(reverse("representatives:region", args=["perm-krai"]))
    assert response.content.decode().count('class="contact"') >= count


def test_sitemap_lastmod_follows_the_contacts(client, perm):
    representative = make_representative(perm)
    Representative.objects.filter(pk=representative.pk).update(
        updated_at=perm.updated_at + timedelta(days=3)
    )
    xml = client.get(reverse("sitemap")).content.decode()
    url = reverse("representatives:region", args=["perm-krai"])
    entry = xml[xml.index(url) :]
    assert (
        f"<lastmod>{(perm.updated_at + timedelta(days=3)).date()}" in entry[: entry.index("</url>")]
    )


def test_reachable_from_rights_page_region_list_and_sitemap(client, regions):
    url = reverse("representatives:region", args=["moscow"])
    # From the rights page once the visitor said Moscow is their region (a newcomer is asked).
    client.post("/regions/choose/", {"region": "moscow", "next": "/"})
    rights = client.get(reverse("rights")).content.decode()
    assert f'href="{url}">Ваш страховой представитель' in rights
    assert f'href="{url}"' in client.get(reverse("regions:list")).content.decode()
    assert url in client.get(reverse("sitemap")).content.decode()


def test_phones_are_validated_one_per_line(perm):
    representative = Representative(region=perm, code="x", level=Level.EXPERT, role="Эксперт")
    representative.phones = "8 (342) 200-00-00\n\n  123  "
    with pytest.raises(ValidationError) as error:
        representative.full_clean()
    assert "phones" in error.value.message_dict
    representative.phones = " 8 (342) 200-00-00 \n\n+7 342 210-10-10"
    representative.full_clean()
    assert representative.phones == "8 (342) 200-00-00\n+7 342 210-10-10"


class TestHoursText:
    def test_parse_groups_and_formats_back(self):
        text = "пн-пт 09:00-13:00 14:00-18:00; сб 10:00-14:00"
        intervals = parse_hours(text)
        assert intervals[:2] == [
            Interval(1, time(9), time(13)),
            Interval(1, time(14), time(18)),
        ]
        assert len(intervals) == 11
        assert format_hours(intervals) == text
        assert [group.long for group in group_days(intervals)] == [
            "понедельник — пятница",
            "суббота",
        ]

    def test_lenient_input(self):
        assert parse_hours("Пн, Ср 9.00–18.00\nпятница 9:00 - 16:45") == [
            Interval(1, time(9), time(18)),
            Interval(3, time(9), time(18)),
            Interval(5, time(9), time(16, 45)),
        ]
        assert parse_hours("") == []

    @pytest.mark.parametrize(
        "text",
        [
            "пн-пт",
            "09:00-18:00",
            "пн-пт 18:00-09:00",
            "пн 09:00-13:00 12:00-18:00",
            "пн 25:00-26:00",
            "пх 09:00-18:00",
            "пт-пн 09:00-18:00",
            "пн 09:00-18:00 обед",
            "пн 09:00-18:00; пн 09:00-18:00",
        ],
    )
    def test_bad_hours_are_refused(self, text):
        with pytest.raises(ValidationError):
            parse_hours(text)


def test_the_hotline_with_an_extension_counts_as_listed(client, perm):
    # A contact centre reached at the hotline's number and an extension already shows the
    # number: the separate hotline card would repeat it (the tel: link now dials «,2» too).
    make_representative(perm, level=Level.CONTACT_CENTRE, phones="8 (800) 333-60-03 доб. 2")
    html = section(page(client, "perm-krai"), 1)
    assert 'href="tel:+78003336003,2"' in html
    assert 'href="tel:+78003336003"' not in html


def test_the_written_appeal_comes_after_the_head_doctor_and_the_hotline(client, regions):
    """The page sent whoever was refused care straight to the written appeal (legal.md: the
    head of the clinic first, then the insurer's hotline)."""
    section = page(client, "tomsk-oblast").split('<h2 id="appeal-title">')[1]
    section = section.split("</section>")[0]
    assert_in_order(
        section,
        [
            *REFUSED_STEPS,
            '<a class="button" href="/obrashchenie/?region=tomsk-oblast">Написать обращение</a>',
        ],
    )
