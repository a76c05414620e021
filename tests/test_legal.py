"""The law the site cites is data staff check: what a citizen reads, what staff see in admin."""

import datetime
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.template import Context, Template
from django.utils import timezone
from django.utils.formats import date_format

from legal.models import LegalAct, LegalProvision

from .factories import management
from .pages import LAYOUT_PAGES
from .support import attempts_to_delete

pytestmark = pytest.mark.django_db

RIGHTS = "/zashchita-prav/"
CITED_ON_RIGHTS = ("326-fz", "oms-rules", "state-guarantees")


def text(response) -> str:
    """The page as read: non-breaking spaces read as spaces."""
    return response.content.decode().replace("\xa0", " ")


def check(*slugs: str, on: datetime.date, user=None) -> None:
    for act in LegalAct.objects.filter(slug__in=slugs):
        act.checked_on = on
        act.checked_by = user
        act.save()


@pytest.fixture
def in_force(regions):
    """The shipped acts, none past its term whatever the calendar says: the fixture's programme
    runs out on 31.12.2026, and tests of the checks must not start failing on that day."""
    for act in LegalAct.objects.exclude(in_force_until=None):
        act.in_force_until = None
        act.save()


def test_fixture_holds_what_legal_md_verifies_and_nothing_more(regions):
    law = LegalAct.objects.get(slug="326-fz")
    assert (law.signed_on, law.number) == (datetime.date(2010, 11, 29), "326-ФЗ")
    assert law.title == "Об обязательном медицинском страховании в Российской Федерации"
    assert [p.text for p in law.provisions.all()] == [
        "п. 1 ч. 1 ст. 16",
        "ч. 1 ст. 45",
        "ст. 35",
        "п. 3 ч. 1 ст. 16",
    ]
    rules = LegalAct.objects.get(slug="oms-rules")
    assert rules.in_force_from == datetime.date(2025, 9, 9)
    assert (rules.signed_on, rules.number) == (None, "")  # not found: left for staff
    programme = LegalAct.objects.get(slug="state-guarantees")
    assert "на 2026 год и на плановый период 2027 и 2028 годов" in programme.document
    assert programme.number == ""
    # «на 2026 год»: a new programme is approved each December.
    assert programme.in_force_until == datetime.date(2026, 12, 31)
    assert not LegalAct.objects.exclude(slug="state-guarantees").exclude(in_force_until=None)
    # No link until someone has opened it and seen the act; nobody has checked anything yet.
    assert not LegalAct.objects.exclude(url="").exists()
    assert not LegalAct.objects.filter(checked_on__isnull=False).exists()


@pytest.mark.parametrize("url", LAYOUT_PAGES)
def test_no_page_cites_108n_as_the_current_rules(client, regions, url):
    page = text(client.get(url))
    assert "108н" not in page
    assert "28.02.2019" not in page


def test_rights_page_cites_article_16_for_the_right_and_45_for_the_policy(client, regions):
    page = text(client.get(RIGHTS))
    assert (
        "Основание: п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона от 29.11.2010 "
        "№ 326-ФЗ «Об обязательном медицинском страховании в Российской Федерации»."
    ) in page
    assert "ст. 35 Федерального закона от 29.11.2010 № 326-ФЗ" in page
    assert (
        "Правила обязательного медицинского страхования, утв. приказом Минздрава России "
        "(в силе с 9 сентября 2025 г.)"
    ) in page
    assert "Программа государственных гарантий бесплатного оказания гражданам" in page


def test_an_act_without_a_checked_link_is_named_in_full_and_not_linked(client, regions):
    page = client.get(RIGHTS).content.decode()
    assert "pravo.gov.ru" not in page
    assert 'href="http' not in page.split('id="policy-title"')[1].split("</section>")[0]


def test_a_link_staff_add_goes_on_the_citation(client, regions):
    law = LegalAct.objects.get(slug="326-fz")
    law.url = "https://publication.example.test/326-fz"
    law.save()
    page = client.get(RIGHTS).content.decode()
    assert '<a href="https://publication.example.test/326-fz">Федерального закона' in page


def test_no_checked_date_while_one_cited_act_is_unchecked(client, in_force):
    check("326-fz", "oms-rules", on=datetime.date(2026, 11, 20))
    page = text(client.get(RIGHTS))
    assert "Проверено" not in page
    # Not silence: the reader is told the references are not checked yet.
    assert "Ссылки на законодательство ещё не сверены с официальными текстами." in page


def test_journey_answers_say_whether_the_law_they_cite_was_checked(client, subjects):
    answer = "/v-drugom-regione/moscow/tomsk-oblast/"
    assert "С официальным текстом закона пока не сверено." in text(client.get(answer))
    check("326-fz", on=datetime.date(2026, 11, 20))
    page = text(client.get(answer))
    assert "Сверено с официальным текстом закона 20.11.2026." in page
    assert "С официальным текстом закона пока не сверено" not in page


def test_checked_date_is_the_oldest_check_of_the_cited_acts(client, in_force):
    check("326-fz", on=datetime.date(2026, 11, 20))
    check("oms-rules", on=datetime.date(2026, 10, 1))
    check("state-guarantees", on=datetime.date(2026, 11, 25))
    page = text(client.get(RIGHTS))
    assert "Проверено 1 октября 2026 г." in page
    assert "Текст соответствует законодательству" not in page


def test_a_cited_act_deleted_in_admin_takes_the_checked_date_away(client, regions):
    check(*CITED_ON_RIGHTS, on=datetime.date(2026, 11, 20))
    LegalAct.objects.get(slug="state-guarantees").delete()
    response = client.get(RIGHTS)
    assert response.status_code == HTTPStatus.OK
    assert "Проверено" not in text(response)


# Acts made for a term (the yearly programme)


def end_term(slug: str, on: datetime.date) -> LegalAct:
    act = LegalAct.objects.get(slug=slug)
    act.in_force_until = on
    act.save()
    return act


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


def test_a_programme_past_its_term_is_not_cited_as_checked_and_current(client, regions):
    """On 1 January the year's programme is no longer in force: the page went on saying its
    references were checked, with last year's programme as the basis."""
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    ended = yesterday()
    end_term("state-guarantees", ended)
    assert LegalAct.objects.checked_on(*CITED_ON_RIGHTS) is None
    response = client.get(RIGHTS)
    page = text(response)
    assert "Проверено" not in page
    until = f"{ended.day} {date_format(ended, 'E Y')} г."
    current_on = page.split('<p class="current-on">')[1].split("</p>")[0]
    assert current_on == (
        "Ссылки на законодательство могут быть устаревшими: срок действия одного из актов истёк."
    )
    # Where it is cited, too.
    programme = page.split('id="programme-title"')[1].split("</section>")[0]
    assert (
        "2028 годов, утв. постановлением Правительства Российской Федерации (срок действия "
        f"истёк: в силе по {until})."
    ) in programme
    # Nothing said of its successor, which the site does not hold.
    assert "на 2027 год и" not in page


def test_an_act_coming_into_force_later_is_not_cited_as_in_force(client, admin_client, regions):
    """«в силе с 1 марта 2027 г.» read as the law of today."""
    rules = LegalAct.objects.get(slug="oms-rules")
    rules.in_force_from = tomorrow()
    rules.save()
    start = f"{tomorrow().day} {date_format(tomorrow(), 'E Y')} г."
    cited = (
        "Правила обязательного медицинского страхования, утв. приказом Минздрава России "
        f"(вступает в силу {start})"
    )
    page = text(client.get(RIGHTS))
    assert cited in page
    assert "в силе с" not in page
    assert cited in text(admin_client.get("/admin/legal/legalact/"))
    # From that day on, as the law in force.
    rules.in_force_from = timezone.localdate()
    rules.save()
    today = f"{timezone.localdate().day} {date_format(timezone.localdate(), 'E Y')} г."
    assert f"России (в силе с {today})" in text(client.get(RIGHTS))


def test_a_term_ending_tomorrow_changes_nothing_on_the_page(client, in_force):
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    before = client.get(RIGHTS).content
    end_term("state-guarantees", tomorrow())
    assert LegalAct.objects.checked_on(*CITED_ON_RIGHTS) == timezone.localdate()
    page = client.get(RIGHTS).content
    assert page == before
    assert "Проверено" in text(client.get(RIGHTS))


def test_cite_tag_names_provisions_in_order_given_and_skips_unknown_ones(regions):
    html = Template('{% load legal %}{% cite "326-fz" "ch1-st45" "no-such" %}').render(Context())
    assert html.startswith("ч. 1 ст. 45 Федерального закона")
    assert Template('{% load legal %}{% cite "no-such-act" %}').render(Context()) == ""


def test_full_names_follow_what_is_known(regions):
    rules = LegalAct.objects.get(slug="oms-rules")
    rules.signed_on = datetime.date(2025, 1, 2)
    rules.number = "000н"
    assert rules.full_name == (
        "Правила обязательного медицинского страхования, утв. приказом Минздрава России "
        "от 02.01.2025 № 000н (в силе с 9 сентября 2025 г.)"
    )
    law = LegalAct.objects.get(slug="326-fz")
    assert law.full_name.startswith("Федеральный закон от 29.11.2010 № 326-ФЗ «Об ")


# Admin


def act_form(act: LegalAct, **changes) -> dict:
    provisions = list(act.provisions.all())
    data = {
        "kind": act.kind,
        "signed_on": act.signed_on.strftime("%d.%m.%Y") if act.signed_on else "",
        "number": act.number,
        "title": act.title,
        "document": act.document,
        "document_genitive": act.document_genitive,
        "url": act.url,
        "in_force_from": act.in_force_from.strftime("%d.%m.%Y") if act.in_force_from else "",
        "in_force_until": act.in_force_until.strftime("%d.%m.%Y") if act.in_force_until else "",
        "slug": act.slug,
        "order": act.order,
    } | management("provisions", total=len(provisions), initial=len(provisions))
    for index, provision in enumerate(provisions):
        prefix = f"provisions-{index}-"
        data |= {
            prefix + "id": provision.pk,
            prefix + "act": act.pk,
            prefix + "text": provision.text,
            prefix + "slug": provision.slug,
            prefix + "summary": provision.summary,
            prefix + "order": provision.order,
        }
    return data | changes


def change_url(act: LegalAct) -> str:
    return f"/admin/legal/legalact/{act.pk}/change/"


def test_staff_mark_an_act_checked_with_the_date_and_their_name(admin_client, admin_user, regions):
    law = LegalAct.objects.get(slug="326-fz")
    response = admin_client.post(change_url(law), act_form(law, mark_checked="on"))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    law.refresh_from_db()
    assert law.checked_on == timezone.localdate()
    assert law.checked_by == admin_user
    page = admin_client.get(change_url(law)).content.decode()
    assert admin_user.username in page


def test_a_change_of_the_act_takes_the_check_away(admin_client, admin_user, regions):
    law = LegalAct.objects.get(slug="326-fz")
    check("326-fz", on=datetime.date(2026, 11, 20), user=admin_user)
    response = admin_client.post(change_url(law), act_form(law, number="326-ФЗ (ред.)"))
    assert response.status_code == HTTPStatus.FOUND
    law.refresh_from_db()
    assert (law.checked_on, law.checked_by) == (None, None)


def test_a_change_of_a_cited_provision_takes_the_check_away(admin_client, admin_user, regions):
    law = LegalAct.objects.get(slug="326-fz")
    check("326-fz", on=datetime.date(2026, 11, 20), user=admin_user)
    response = admin_client.post(
        change_url(law), act_form(law, **{"provisions-1-text": "ст. 45"}), follow=True
    )
    assert response.status_code == HTTPStatus.OK
    # Said, as for an edit of the act: the pages now say the references are not checked.
    assert "статьи изменены, отметка о проверке снята" in response.content.decode()
    law.refresh_from_db()
    assert law.checked_on is None
    assert LegalProvision.objects.get(act=law, slug="ch1-st45").text == "ст. 45"


def test_what_the_pages_cite_cannot_be_deleted_in_admin(admin_client, client, regions):
    """Deleted, a cited provision vanished from «Основание: …» and a cited act from the page,
    without a word (the editor's audit)."""
    law = LegalAct.objects.get(slug="326-fz")
    provisions = list(law.provisions.all())
    index = next(n for n, p in enumerate(provisions) if p.slug == "st35")
    response = admin_client.post(
        change_url(law), act_form(law, **{f"provisions-{index}-DELETE": "on"})
    )
    assert response.status_code == HTTPStatus.OK
    assert "цитируют страницы сайта: его нельзя удалить" in response.content.decode()
    assert law.provisions.filter(slug="st35").exists()
    # What no page cites can go.
    spare = LegalAct.objects.create(slug="spare-act", kind=law.kind, title="Акт (тест)")
    spare_delete = f"/admin/legal/legalact/{spare.pk}/delete/"
    assert admin_client.post(spare_delete, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert not LegalAct.objects.filter(slug="spare-act").exists()


def test_a_cited_act_is_kept_in_plain_words_inside_admin(admin_client, regions):
    """Deleting a cited act answered with the public site's 403 page, and «Удалить выбранные»
    told even a superuser that the account lacked rights («Удаление выбранной нормативные
    акты … не имеет прав»), not that pages cite the act."""
    law = LegalAct.objects.get(slug="326-fz")
    for response in attempts_to_delete(admin_client, "/admin/legal/legalact/", law.pk):
        assert response.status_code == HTTPStatus.OK
        page = text(response)
        assert f"«{law.full_name}» нельзя удалить: на него ссылаются страницы сайта." in page
        assert "Управление сайтом ОМС" in page  # admin's page, not the public site's
        assert "не имеет прав" not in page and "защищенных" not in page
        assert 'name="post"' not in response.content.decode()  # no «Да, я уверен»
    assert LegalAct.objects.filter(pk=law.pk).exists()


def test_a_cited_act_cannot_be_stripped_of_what_identifies_it(admin_client, client, regions):
    """Date, number and title cleared, 326-ФЗ saved without a word and the rights page gave
    «Основание: п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона.»: nobody could find it."""
    law = LegalAct.objects.get(slug="326-fz")
    stripped = act_form(law, signed_on="", number="", title="")
    response = admin_client.post(change_url(law), stripped)
    assert response.status_code == HTTPStatus.OK
    assert (
        "Страницы сайта ссылаются на этот акт, а по тому, что здесь записано, его не найти: "
        "нет названия, даты и номера акта."
    ) in text(response)
    assert "Основание: п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона от 29.11.2010" in text(
        client.get(RIGHTS)
    )
    # The number kept, the date still missing: said.
    page = text(admin_client.post(change_url(law), stripped | {"number": "326-ФЗ"}))
    assert "его не найти: нет названия и даты акта." in page
    law.refresh_from_db()
    assert (law.number, law.title) == (
        "326-ФЗ",
        "Об обязательном медицинском страховании в Российской Федерации",
    )
    # Either the title alone, or the date and number alone, identify it.
    for enough in ({"title": law.title}, {"signed_on": "29.11.2010", "number": "326-ФЗ"}):
        response = admin_client.post(change_url(law), stripped | enough)
        assert response.status_code == HTTPStatus.FOUND, text(response)[:3000]


def test_unknown_details_stay_empty_where_the_act_is_named_by_its_document(admin_client, regions):
    """legal.md: the Rules' order has no known number or date, the programme's decree no known
    number; the site names them by the document they approve, and they save as they are."""
    for slug in ("oms-rules", "state-guarantees"):
        act = LegalAct.objects.get(slug=slug)
        response = admin_client.post(change_url(act), act_form(act, order="7"))
        assert response.status_code == HTTPStatus.FOUND, text(response)[:3000]
    # Without the document's name there is nothing left to find the Rules by.
    rules = LegalAct.objects.get(slug="oms-rules")
    page = text(admin_client.post(change_url(rules), act_form(rules, document="")))
    assert "нет названия, даты и номера акта." in page
    # An act no page cites may wait for its details.
    spare = LegalAct.objects.create(slug="spare-act", kind=rules.kind, title="Акт (тест)")
    response = admin_client.post(change_url(spare), act_form(spare, title=""))
    assert response.status_code == HTTPStatus.FOUND


def test_an_acts_date_in_the_future_is_refused(admin_client, regions):
    law = LegalAct.objects.get(slug="326-fz")
    response = admin_client.post(change_url(law), act_form(law, signed_on="15.12.2099"))
    assert response.status_code == HTTPStatus.OK
    assert "Дата акта не может быть позже сегодняшней" in response.content.decode()


def test_the_codes_pages_cite_by_cannot_be_changed(admin_client, client, regions):
    law = LegalAct.objects.get(slug="326-fz")
    # The act's code is shown, not offered: a changed one is ignored.
    assert admin_client.post(change_url(law), act_form(law, slug="fz-326")).status_code == 302
    assert LegalAct.objects.filter(slug="326-fz").exists()
    # A provision's code: refused with a message, nothing saved.
    response = admin_client.post(change_url(law), act_form(law, **{"provisions-0-slug": "st16"}))
    assert response.status_code == HTTPStatus.OK
    assert "Код положения не меняется" in response.content.decode()
    assert LegalProvision.objects.filter(act=law, slug="p1-ch1-st16").exists()
    page = text(client.get("/zashchita-prav/"))
    assert "Основание: п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона" in page


def test_two_provisions_with_one_code_are_refused_in_russian(admin_client, regions):
    law = LegalAct.objects.get(slug="326-fz")
    count = law.provisions.count()
    twin = {
        "provisions-TOTAL_FORMS": str(count + 1),
        f"provisions-{count}-act": law.pk,
        f"provisions-{count}-text": "ст. 35 ещё раз",
        f"provisions-{count}-slug": "st35",
        f"provisions-{count}-summary": "",
        f"provisions-{count}-order": "9",
    }
    response = admin_client.post(change_url(law), act_form(law) | twin)
    page = response.content.decode()
    assert "Исправьте повторяющиеся строки: у двух строк совпадает «Код»." in page
    assert LegalProvision.objects.filter(act=law).count() == count


def test_an_edit_in_admin_shows_on_the_rights_page_at_once(admin_client, client, regions):
    client.get(RIGHTS)  # cached
    rules = LegalAct.objects.get(slug="oms-rules")
    admin_client.post(change_url(rules), act_form(rules, number="000н", signed_on="01.01.2025"))
    assert "утв. приказом Минздрава России от 01.01.2025 № 000н" in text(client.get(RIGHTS))


def test_the_list_action_marks_acts_checked(admin_client, admin_user, regions):
    for act in LegalAct.objects.all():  # as staff would fill them in from the official texts
        act.signed_on, act.number = act.signed_on or datetime.date(2025, 1, 2), act.number or "0"
        act.save()
    acts = LegalAct.objects.all()
    action = {"action": "mark_checked", "_selected_action": [act.pk for act in acts]}
    confirmation = admin_client.post("/admin/legal/legalact/", action)
    assert "Да, отметить (3)" in confirmation.content.decode()
    assert not LegalAct.objects.filter(checked_on__isnull=False).exists()
    response = admin_client.post("/admin/legal/legalact/", action | {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert set(acts.values_list("checked_on", "checked_by")) == {
        (timezone.localdate(), admin_user.pk)
    }


RULES_NAME = (
    "Правила обязательного медицинского страхования, утв. приказом Минздрава России "
    "(в силе с 9 сентября 2025 г.)"
)
RULES_REFUSED = f"«{RULES_NAME}» нельзя отметить сверенным: нет даты и номера акта."


def test_an_act_without_its_date_and_number_cannot_be_marked_checked(admin_client, in_force):
    """The Rules' order has no known date or number (legal.md): marked «сверено», the rights
    page said its references were checked against the official texts while citing an act
    nobody could find by what it printed."""
    rules = LegalAct.objects.get(slug="oms-rules")
    response = admin_client.post(change_url(rules), act_form(rules, mark_checked="on"))
    assert response.status_code == HTTPStatus.OK
    assert RULES_REFUSED in text(response)
    rules.refresh_from_db()
    assert rules.checked_on is None
    # With the date only, the number is still asked for.
    with_date = act_form(rules, mark_checked="on", signed_on="01.08.2025")
    page = text(admin_client.post(change_url(rules), with_date))
    assert "нельзя отметить сверенным: нет номера акта." in page
    # Typed in from the official text with the mark: checked.
    complete = with_date | {"number": "000н"}
    assert admin_client.post(change_url(rules), complete).status_code == HTTPStatus.FOUND
    rules.refresh_from_db()
    assert (rules.number, rules.checked_on) == ("000н", timezone.localdate())


def test_the_list_action_marks_the_complete_acts_and_names_the_others(
    admin_client, admin_user, client, in_force
):
    acts = LegalAct.objects.all()
    action = {"action": "mark_checked", "_selected_action": [act.pk for act in acts]}
    confirmation = text(admin_client.post("/admin/legal/legalact/", action))
    # Said before the «yes», which counts only what it marks.
    assert "Не будут отмечены:" in confirmation
    assert RULES_REFUSED in confirmation
    assert "«Программа государственных гарантий" in confirmation
    assert "Да, отметить (1)" in confirmation
    response = admin_client.post("/admin/legal/legalact/", action | {"post": "yes"}, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0] == "Отмечено как сверенное сегодня: 1."
    assert shown[1].startswith(RULES_REFUSED)
    assert "«Программа государственных гарантий" in shown[2]
    assert "нет даты и номера акта" in shown[2]
    checked = LegalAct.objects.filter(checked_on__isnull=False)
    assert list(checked.values_list("slug", "checked_by")) == [("326-fz", admin_user.pk)]
    # Only incomplete acts chosen: nothing to confirm, each named, nothing marked.
    incomplete = [act.pk for act in acts if act.slug != "326-fz"]
    response = admin_client.post(
        "/admin/legal/legalact/", action | {"_selected_action": incomplete}, follow=True
    )
    assert "Да, отметить" not in text(response)
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 2 and shown[0].startswith(RULES_REFUSED)
    assert checked.count() == 1
    # The rights page does not call its references checked.
    page = text(client.get(RIGHTS))
    assert "Проверено" not in page
    assert "Ссылки на законодательство ещё не сверены с официальными текстами." in page


@pytest.mark.django_db(transaction=True)
def test_a_check_of_an_act_without_date_or_number_made_before_is_taken_away(
    client, in_force, migrate
):
    """Marks admin let through before it refused them (legal/migrations/0003)."""
    check(*CITED_ON_RIGHTS, on=datetime.date(2026, 11, 20))
    migrate(TERMS)
    migrate(CHECKS_NEED_CITATIONS)
    page = text(client.get(RIGHTS))
    assert "Проверено" not in page
    assert "Ссылки на законодательство ещё не сверены с официальными текстами." in page
    checked = LegalAct.objects.filter(checked_on__isnull=False)
    assert list(checked.values_list("slug", flat=True)) == ["326-fz"]


def test_admin_index_lists_unchecked_and_year_old_references(admin_client, in_force):
    check("326-fz", on=timezone.localdate() - datetime.timedelta(days=400))
    check("oms-rules", on=timezone.localdate())
    page = admin_client.get("/admin/").content.decode().replace("\xa0", " ")
    notice = page.split("Ссылки на законы: нужна проверка")[1].split("</div>")[0]
    assert "Не проверены:" in notice
    assert "Программа государственных гарантий" in notice.split("Проверены больше года")[0]
    assert "Федеральный закон от 29.11.2010 № 326-ФЗ" in notice.split("Проверены больше года")[1]
    assert "Правила обязательного медицинского страхования" not in notice


def test_admin_index_says_nothing_once_every_reference_is_fresh(admin_client, in_force):
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    assert "нужна проверка" not in admin_client.get("/admin/").content.decode()


def test_admin_asks_for_the_act_in_force_once_a_term_is_over(admin_client, regions):
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    programme = end_term("state-guarantees", yesterday())
    listing = text(admin_client.get("/admin/legal/legalact/"))
    assert (
        f"в силе по {yesterday():%d.%m.%Y}: срок действия истёк — внесите действующий акт"
    ) in listing
    page = text(admin_client.get("/admin/"))
    notice = page.split("Ссылки на законы: нужна проверка")[1].split("</div>")[0]
    assert "Срок действия истёк — внесите действующий акт." in notice
    assert f"{programme.full_name}</a> — в силе по {yesterday():%d.%m.%Y}" in notice
    # Once: it wants replacing, whatever its check.
    assert notice.count("Программа государственных гарантий") == 1
    assert "326-ФЗ" not in notice


def test_admin_says_nothing_of_a_term_not_over_yet(admin_client, regions):
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    end_term("state-guarantees", tomorrow())
    listing = text(admin_client.get("/admin/legal/legalact/"))
    assert date_format(tomorrow(), "DATE_FORMAT") in listing  # the «действует по» column
    assert "срок действия истёк" not in listing
    assert "нужна проверка" not in admin_client.get("/admin/").content.decode()


def test_a_term_ending_before_it_starts_is_refused(admin_client, regions):
    rules = LegalAct.objects.get(slug="oms-rules")
    response = admin_client.post(change_url(rules), act_form(rules, in_force_until="31.12.2024"))
    assert response.status_code == HTTPStatus.OK
    assert "«Действует по» не может быть раньше «действует с»." in response.content.decode()
    rules.refresh_from_db()
    assert rules.in_force_until is None


def test_a_change_of_the_term_takes_the_check_away(admin_client, admin_user, regions):
    programme = LegalAct.objects.get(slug="state-guarantees")
    check("state-guarantees", on=timezone.localdate(), user=admin_user)
    form = act_form(programme, in_force_until="31.12.2027")
    assert admin_client.post(change_url(programme), form).status_code == HTTPStatus.FOUND
    programme.refresh_from_db()
    assert (programme.in_force_until, programme.checked_on) == (datetime.date(2027, 12, 31), None)


@pytest.mark.parametrize(
    "url", ["/admin/legal/legalact/", "/admin/legal/legalact/add/", "/admin/legal/legalact/1/"]
)
def test_legal_admin_pages_load(admin_client, regions, url):
    assert admin_client.get(url, follow=True).status_code == HTTPStatus.OK


# The programme's code without its year (legal/migrations/0002)

BEFORE_TERMS = ("legal", "0001_initial")
TERMS = ("legal", "0002_in_force_until_and_state_guarantees")
CHECKS_NEED_CITATIONS = ("legal", "0003_drop_checks_of_acts_without_date_or_number")


@pytest.mark.django_db(transaction=True)
def test_databases_loaded_from_the_old_fixture_cite_the_programme_by_its_new_code(regions, migrate):
    from regions.models import ContentVersion

    programme = LegalAct.objects.get(slug="state-guarantees").pk
    # Back to the old schema: the row goes back to the year's code the old pages cite.
    migrate(BEFORE_TERMS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM legal_legalact WHERE slug = %s", ["state-guarantees-2026"])
        assert cursor.fetchall() == [(programme,)]
    version = ContentVersion.objects.get().number
    migrate(TERMS)
    act = LegalAct.objects.get(pk=programme)
    assert (act.slug, act.in_force_until) == ("state-guarantees", datetime.date(2026, 12, 31))
    assert not LegalAct.objects.filter(slug="state-guarantees-2026").exists()
    # No instance keeps a page built under the old code.
    assert ContentVersion.objects.get().number > version
    # The shipped fixtures, loaded again, find the row by its code: no second programme.
    fixtures = sorted((settings.BASE_DIR / "fixtures").glob("*.json"))
    call_command("loaddata", *fixtures, verbosity=0)
    assert sorted(LegalAct.objects.values_list("slug", flat=True)) == [
        "326-fz",
        "oms-rules",
        "state-guarantees",
    ]
    assert LegalAct.objects.get(slug="state-guarantees").pk == programme
    assert LegalProvision.objects.filter(act__slug="326-fz").count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_rename_leaves_a_database_without_the_programme_alone(db, migrate):
    migrate(BEFORE_TERMS)
    migrate(TERMS)
    assert not LegalAct.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_rename_leaves_a_programme_staff_made_under_the_new_code_alone(regions, migrate):
    from django.db.migrations.executor import MigrationExecutor

    migrate(BEFORE_TERMS)
    old_state = MigrationExecutor(connection).loader.project_state(BEFORE_TERMS)
    theirs = old_state.apps.get_model("legal", "LegalAct").objects.create(
        slug="state-guarantees", kind="government-decree", document="Программа (тест)"
    )
    migrate(TERMS)
    # No clash of codes: the year's row stays as it was, the pages cite theirs.
    assert LegalAct.objects.get(slug="state-guarantees-2026").in_force_until is None
    assert LegalAct.objects.get(slug="state-guarantees").pk == theirs.pk
    migrate(BEFORE_TERMS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT slug FROM legal_legalact WHERE slug LIKE %s", ["state-%"])
        assert sorted(cursor.fetchall()) == [("state-guarantees",), ("state-guarantees-2026",)]
    migrate(TERMS)
