"""Each region's ТФОМС from a third-party compilation, shown with its source and date; staff
mark a fund checked against its own site."""

import datetime
import re
from http import HTTPStatus

import pytest
from django.utils import timezone

from regions.models import ContentVersion, Region, site_label

from .factories import region_form
from .support import clear_caches

pytestmark = pytest.mark.django_db

SOURCE_URL = (
    "https://github.com/infoculture/finguide/blob/d87540a90eb23c17e56ab1f3e8364615df0efa52/"
    "_dev/rf_finance_sources_table_full.md"
)


def unboxed(html: str) -> str:
    """The text without the boxes the typograph puts phone numbers and their groups in."""
    return re.sub(r'</?span(?: class="nowrap")?>', "", html)


def fund_card(client, region: Region) -> str:
    page = client.get(region.get_absolute_url()).content.decode().replace("\xa0", " ")
    start = page.index("Территориальный фонд ОМС</h3>")
    return page[start : page.index("</div>", start)]


def test_every_region_page_shows_its_fund_with_the_source_and_date(client, regions):
    assert len(regions.regions) == 23
    for region in regions.regions:
        card = fund_card(client, region)
        assert f"<p>{region.tfoms_name}</p>" in card, region.slug
        site = region.tfoms_site_label
        assert f'<a href="{site}" rel="noopener">{site}</a>' in card
        assert "По данным на 14.05.2026" in card
        assert f'<a href="{SOURCE_URL}" rel="noopener">' in card
        assert "С сайтом фонда пока не сверено." in card
        # Never a guessed phone or address.
        assert "Телефон:" not in card and "Адрес:" not in card


def test_representatives_pages_show_the_fund_too(client, regions):
    page = client.get("/regions/tomsk-oblast/representatives/").content.decode()
    assert "ТФОМС Томской области" in page
    assert "По данным на 14.05.2026" in page.replace("\xa0", " ")


def test_a_region_page_without_phones_says_where_to_find_them(client, regions):
    page = client.get("/regions/perm-krai/").content.decode().replace("\xa0", " ")
    assert "Телефон и адрес фонда смотрите на его сайте" in page
    assert (
        "Контакты органа здравоохранения Пермского края на нашем сайте пока не опубликованы" in page
    )
    assert 'href="tel:+78003336003"' in page


def test_a_fund_known_by_name_only_sends_nobody_to_a_site_it_does_not_show(client, regions):
    Region.objects.filter(slug="perm-krai").update(tfoms_site="")
    clear_caches()  # update() sends no signal
    page = client.get("/regions/perm-krai/").content.decode().replace("\xa0", " ")
    assert "смотрите на его сайте" not in page
    assert "Телефона и адреса фонда на нашем сайте пока нет." in page
    assert 'href="tel:+78003336003"' in page


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://www.xn--09-7lchqdo.xn--p1ai/", "https://www.тфомс09.рф/"),
        ("http://псковский-тфомс.рф/", "http://псковский-тфомс.рф/"),
        ("https://mgfoms.ru/", "https://mgfoms.ru/"),
        ("https://fund.example.test/contacts/", "https://fund.example.test/contacts/"),
    ],
)
def test_sites_are_shown_as_people_read_them(url, label):
    assert site_label(url) == label


def test_staff_mark_a_fund_checked_and_citizens_see_it(admin_client, admin_user, client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    client.get(tomsk.get_absolute_url())  # cached before the check
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    response = admin_client.post(url, region_form(tomsk, mark_checked="on"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    tomsk.refresh_from_db()
    assert (tomsk.checked_on, tomsk.checked_by) == (timezone.localdate(), admin_user)
    card = fund_card(client, tomsk)
    assert f"Сверено с официальным сайтом фонда {timezone.localdate():%d.%m.%Y}." in card
    assert "пока не сверено" not in card


def test_changing_the_fund_takes_the_check_away(admin_client, admin_user, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    tomsk.checked_on, tomsk.checked_by = datetime.date(2026, 11, 1), admin_user
    tomsk.save()
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    new_site = {"tfoms_site": "https://fund.example.test/", "tfoms_source": OFFICIAL}
    response = admin_client.post(url, region_form(tomsk, **new_site))
    assert response.status_code == HTTPStatus.FOUND
    tomsk.refresh_from_db()
    assert tomsk.checked_on is None and tomsk.checked_by is None


def test_a_phone_typed_in_is_not_credited_to_the_compilation(admin_client, client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    typed = {"tfoms_phone": "8 (3822) 12-34-56"}
    response = admin_client.post(url, region_form(tomsk, **typed))
    assert response.status_code == HTTPStatus.OK
    assert "взяты из прежнего источника" in response.content.decode()
    assert Region.objects.get(pk=tomsk.pk).tfoms_phone == ""
    # A new date alone says the compilation gave the phone; no source at all says nothing.
    today = timezone.localdate().strftime("%d.%m.%Y")
    for refused in (
        typed | {"tfoms_source_date": today},
        typed | {"tfoms_source": "", "tfoms_source_url": "", "tfoms_source_date": ""},
    ):
        response = admin_client.post(url, region_form(tomsk, **refused))
        assert response.status_code == HTTPStatus.OK
        assert Region.objects.get(pk=tomsk.pk).tfoms_phone == ""
    # Said where it comes from: saved, and the page credits that.
    official = typed | {"tfoms_source": "Официальный сайт фонда", "tfoms_source_url": ""}
    official |= {"tfoms_source_date": timezone.localdate().strftime("%d.%m.%Y")}
    assert admin_client.post(url, region_form(tomsk, **official)).status_code == HTTPStatus.FOUND
    card = fund_card(client, tomsk)
    assert "8 (3822) 12-34-56" in unboxed(card) and "источник: Официальный сайт фонда" in card
    # Or checked on the fund's own site today.
    checked = {"tfoms_address": "г. Томск (тест)", "mark_checked": "on"}
    assert admin_client.post(url, region_form(tomsk, **checked)).status_code == HTTPStatus.FOUND
    # A colleague's typo fix would take the check away and credit the checked address to the
    # source: refused until the source is named or the contacts checked again.
    tomsk.refresh_from_db()
    assert tomsk.checked_on
    fixed = region_form(tomsk, tfoms_name="ТФОМС Томской области (тест)")
    assert admin_client.post(url, fixed).status_code == HTTPStatus.OK
    assert admin_client.post(url, fixed | {"mark_checked": "on"}).status_code == HTTPStatus.FOUND
    # Clearing a wrong phone needs no source; of a checked fund, the check again, else what
    # stays (the name typed in with the check) would be credited to the source.
    tomsk.refresh_from_db()
    cleared = region_form(tomsk, tfoms_phone="", tfoms_address="")
    assert admin_client.post(url, cleared).status_code == HTTPStatus.OK
    assert admin_client.post(url, cleared | {"mark_checked": "on"}).status_code == 302
    Region.objects.filter(pk=tomsk.pk).update(checked_on=None, tfoms_phone="8 (3822) 12-34-56")
    tomsk.refresh_from_db()
    assert admin_client.post(url, region_form(tomsk, tfoms_phone="")).status_code == 302


OFFICIAL = "Официальный сайт фонда (тест)"
OLD_SOURCE = "Сайт покажет, что сведения о фонде взяты из прежнего источника."


@pytest.mark.parametrize(
    ("field", "label", "value"),
    [
        ("tfoms_site", "ТФОМС: сайт", "https://fund.example.test/"),
        ("tfoms_name", "ТФОМС: название", "Территориальный фонд ОМС (тест)"),
    ],
)
def test_a_new_fund_site_or_name_is_not_credited_to_the_compilation(
    admin_client, client, regions, field, label, value
):
    """A fund's site or name typed in saved without a word, and the page went on saying the
    compilation of 14.05.2026 gave it, as for a phone or an address."""
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    response = admin_client.post(url, region_form(tomsk, **{field: value}))
    assert response.status_code == HTTPStatus.OK
    assert f"Изменено: «{label}». {OLD_SOURCE}" in response.content.decode()
    assert getattr(Region.objects.get(pk=tomsk.pk), field) != value
    # A new date alone still credits the compilation.
    today = timezone.localdate().strftime("%d.%m.%Y")
    response = admin_client.post(url, region_form(tomsk, **{field: value}, tfoms_source_date=today))
    assert response.status_code == HTTPStatus.OK
    # Said where it comes from: saved, and the page credits that, not the compilation.
    sourced = {field: value, "tfoms_source": OFFICIAL, "tfoms_source_url": ""}
    sourced |= {"tfoms_source_date": today}
    assert admin_client.post(url, region_form(tomsk, **sourced)).status_code == HTTPStatus.FOUND
    card = fund_card(client, tomsk)
    assert f"источник: {OFFICIAL}" in card and SOURCE_URL not in card
    assert value in card


def test_a_new_fund_site_checked_on_the_funds_site_needs_no_source(admin_client, client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    checked = region_form(tomsk, tfoms_site="https://fund.example.test/", mark_checked="on")
    assert admin_client.post(url, checked).status_code == HTTPStatus.FOUND
    card = fund_card(client, tomsk)
    assert f"Сверено с официальным сайтом фонда {timezone.localdate():%d.%m.%Y}." in card


def test_a_source_date_in_the_future_is_refused(admin_client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    response = admin_client.post(url, region_form(tomsk, tfoms_source_date="01.01.2099"))
    assert "Дата сведений не может быть позже сегодняшней" in response.content.decode()


def test_saving_a_never_checked_fund_says_nothing_of_a_check(admin_client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    renamed = region_form(tomsk, tfoms_name="ТФОМС (тест)", tfoms_source=OFFICIAL)
    response = admin_client.post(url, renamed, follow=True)
    assert response.redirect_chain  # saved
    assert "отметка о проверке снята" not in response.content.decode()


def test_changing_something_else_keeps_the_check(admin_client, admin_user, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    tomsk.checked_on, tomsk.checked_by = datetime.date(2026, 11, 1), admin_user
    tomsk.save()
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    admin_client.post(url, region_form(tomsk, order=99))
    tomsk.refresh_from_db()
    assert tomsk.checked_on == datetime.date(2026, 11, 1)


def test_the_region_list_marks_several_funds_checked(admin_client, admin_user, regions):
    chosen = [regions.by_slug["tomsk-oblast"].pk, regions.by_slug["perm-krai"].pk]
    before = ContentVersion.objects.get().number
    action = {"action": "mark_checked", "_selected_action": chosen}
    # First the list, each fund with the site to open: one click marked all 23.
    response = admin_client.post("/admin/regions/region/", action)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Томская область" in page and "Пермский край" in page
    assert f'href="{regions.by_slug["tomsk-oblast"].tfoms_site}"' in page
    assert not Region.objects.filter(checked_on__isnull=False).exists()
    response = admin_client.post("/admin/regions/region/", action | {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    checked = Region.objects.filter(checked_on=timezone.localdate(), checked_by=admin_user)
    assert sorted(checked.values_list("pk", flat=True)) == sorted(chosen)
    # Pages are rebuilt once for the whole action, not once per row.
    assert ContentVersion.objects.get().number == before + 1
    listing = admin_client.get("/admin/regions/region/").content.decode()
    assert "не проверено" in listing


def health_card(client, url: str) -> str:
    page = client.get(url).content.decode().replace("\xa0", " ")
    start = page.index("Орган здравоохранения</h3>")
    return page[start : page.index("</div>", start)]


def test_health_contacts_need_a_source_and_citizens_see_it(admin_client, client, subjects):
    """The reference data has no source for any health authority's contacts: whoever types
    them in says where they come from, and pages say it with the date."""
    tomsk = Region.objects.get(slug="tomsk-oblast")
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    typed = {"health_phone": "8 (3822) 00-00-00", "health_site": "https://health.example.test/"}
    response = admin_client.post(url, region_form(tomsk, **typed))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Укажите, откуда взяты контакты органа здравоохранения." in page
    assert "Укажите, на какую дату источник приводит контакты." in page
    assert not Region.objects.get(pk=tomsk.pk).has_health

    sourced = typed | {
        "health_source": "Сайт департамента (тест)",
        "health_source_url": "https://health.example.test/contacts/",
        "health_source_date": "02.03.2026",
    }
    assert admin_client.post(url, region_form(tomsk, **sourced)).status_code == HTTPStatus.FOUND
    for page_url in (tomsk.get_absolute_url(), "/v-drugom-regione/perm-krai/tomsk-oblast/"):
        card = health_card(client, page_url)
        assert "8 (3822) 00-00-00" in unboxed(card)
        assert (
            'По данным на 02.03.2026, источник: <a href="https://health.example.test/contacts/"'
            ' rel="noopener">Сайт департамента (тест)</a>.'
        ) in card
        assert "сайтом фонда" not in card


def test_a_health_source_date_in_the_future_is_refused(admin_client, regions):
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    response = admin_client.post(url, region_form(tomsk, health_source_date="01.01.2099"))
    assert "Дата сведений не может быть позже сегодняшней" in response.content.decode()


def test_new_health_contacts_are_not_credited_to_the_old_source(admin_client, client, regions):
    """As the fund's: a phone changed under the old source and date was shown «по данным на
    02.03.2026» of a source that never gave it."""
    tomsk = regions.by_slug["tomsk-oblast"]
    url = f"/admin/regions/region/{tomsk.pk}/change/"
    sourced = {
        "health_phone": "8 (3822) 00-00-00",
        "health_source": "Сайт департамента (тест)",
        "health_source_date": "02.03.2026",
    }
    assert admin_client.post(url, region_form(tomsk, **sourced)).status_code == HTTPStatus.FOUND
    tomsk.refresh_from_db()
    for field, label, value in [
        ("health_phone", "Орган здравоохранения: телефон", "8 (3822) 11-11-11"),
        ("health_site", "Орган здравоохранения: сайт", "https://health.example.test/"),
        ("health_name", "Орган здравоохранения: название", "Департамент (тест)"),
    ]:
        response = admin_client.post(url, region_form(tomsk, **{field: value}))
        assert response.status_code == HTTPStatus.OK
        assert (
            f"Изменено: «{label}», а источник и дата прежние. Сайт покажет, что новые контакты "
            "органа здравоохранения взяты из прежнего источника."
        ) in response.content.decode()
    assert "8 (3822) 00-00-00" in unboxed(health_card(client, tomsk.get_absolute_url()))
    # Read again today from the same source: the new date says so, and the page shows it.
    today = timezone.localdate().strftime("%d.%m.%Y")
    again = region_form(tomsk, health_phone="8 (3822) 11-11-11", health_source_date=today)
    assert admin_client.post(url, again).status_code == HTTPStatus.FOUND
    card = health_card(client, tomsk.get_absolute_url())
    assert "8 (3822) 11-11-11" in unboxed(card) and f"По данным на {today}" in card
    # Clearing one needs nothing new.
    tomsk.refresh_from_db()
    assert admin_client.post(url, region_form(tomsk, health_phone="")).status_code == 302
