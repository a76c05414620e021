"""The law the site cites is data staff check: what a citizen reads, what staff see in admin."""

import datetime
from http import HTTPStatus

import pytest
from django.template import Context, Template
from django.utils import timezone

from legal.models import LegalAct, LegalProvision

from .factories import management
from .pages import LAYOUT_PAGES
from .support import attempts_to_delete

pytestmark = pytest.mark.django_db

RIGHTS = "/zashchita-prav/"
CITED_ON_RIGHTS = ("326-fz", "oms-rules", "state-guarantees-2026")


def text(response) -> str:
    """The page as read: non-breaking spaces read as spaces."""
    return response.content.decode().replace("\xa0", " ")


def check(*slugs: str, on: datetime.date, user=None) -> None:
    for act in LegalAct.objects.filter(slug__in=slugs):
        act.checked_on = on
        act.checked_by = user
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
    programme = LegalAct.objects.get(slug="state-guarantees-2026")
    assert "на 2026 год и на плановый период 2027 и 2028 годов" in programme.document
    assert programme.number == ""
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


def test_no_checked_date_while_one_cited_act_is_unchecked(client, regions):
    check("326-fz", "oms-rules", on=datetime.date(2026, 11, 20))
    page = text(client.get(RIGHTS))
    assert "Проверено" not in page
    # Not silence: the reader is told the references are not checked yet.
    assert "Ссылки на законодательство на этой странице ещё не сверены" in page


def test_journey_answers_say_whether_the_law_they_cite_was_checked(client, subjects):
    answer = "/v-drugom-regione/moscow/tomsk-oblast/"
    assert "С официальным текстом закона пока не сверено." in text(client.get(answer))
    check("326-fz", on=datetime.date(2026, 11, 20))
    page = text(client.get(answer))
    assert "Сверено с официальным текстом закона 20.11.2026." in page
    assert "С официальным текстом закона пока не сверено" not in page


def test_checked_date_is_the_oldest_check_of_the_cited_acts(client, regions):
    check("326-fz", on=datetime.date(2026, 11, 20))
    check("oms-rules", on=datetime.date(2026, 10, 1))
    check("state-guarantees-2026", on=datetime.date(2026, 11, 25))
    page = text(client.get(RIGHTS))
    assert "Проверено 1 октября 2026 г." in page
    assert "Текст соответствует законодательству" not in page


def test_a_cited_act_deleted_in_admin_takes_the_checked_date_away(client, regions):
    check(*CITED_ON_RIGHTS, on=datetime.date(2026, 11, 20))
    LegalAct.objects.get(slug="state-guarantees-2026").delete()
    response = client.get(RIGHTS)
    assert response.status_code == HTTPStatus.OK
    assert "Проверено" not in text(response)


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
    acts = LegalAct.objects.all()
    action = {"action": "mark_checked", "_selected_action": [act.pk for act in acts]}
    confirmation = admin_client.post("/admin/legal/legalact/", action)
    assert "Да, отметить" in confirmation.content.decode()
    assert not LegalAct.objects.filter(checked_on__isnull=False).exists()
    response = admin_client.post("/admin/legal/legalact/", action | {"post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert set(acts.values_list("checked_on", "checked_by")) == {
        (timezone.localdate(), admin_user.pk)
    }


def test_admin_index_lists_unchecked_and_year_old_references(admin_client, regions):
    check("326-fz", on=timezone.localdate() - datetime.timedelta(days=400))
    check("oms-rules", on=timezone.localdate())
    page = admin_client.get("/admin/").content.decode().replace("\xa0", " ")
    notice = page.split("Ссылки на законы: нужна проверка")[1].split("</div>")[0]
    assert "Не проверены:" in notice
    assert "Программа государственных гарантий" in notice.split("Проверены больше года")[0]
    assert "Федеральный закон от 29.11.2010 № 326-ФЗ" in notice.split("Проверены больше года")[1]
    assert "Правила обязательного медицинского страхования" not in notice


def test_admin_index_says_nothing_once_every_reference_is_fresh(admin_client, regions):
    check(*CITED_ON_RIGHTS, on=timezone.localdate())
    assert "нужна проверка" not in admin_client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "url", ["/admin/legal/legalact/", "/admin/legal/legalact/add/", "/admin/legal/legalact/1/"]
)
def test_legal_admin_pages_load(admin_client, regions, url):
    assert admin_client.get(url, follow=True).status_code == HTTPStatus.OK
