"""«Журнал действий»: who added, changed or deleted what in admin, deletions included."""

from http import HTTPStatus

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from appeals.models import Appeal

from .appeals_support import make_appeal
from .factories import make_representative

pytestmark = pytest.mark.django_db

LOG = "/admin/admin/logentry/"


def text(response) -> str:
    return response.content.decode().replace("\xa0", " ")


@pytest.fixture
def deleted_contact(content_editor, regions):
    """A contact an editor deleted in admin: gone, with its «История»."""
    contact = make_representative(
        regions.by_slug["tomsk-oblast"], role="Страховой представитель", person="Журналова Ю."
    )
    delete = f"/admin/representatives/representative/{contact.pk}/delete/"
    assert content_editor.post(delete, {"post": "yes"}).status_code == HTTPStatus.FOUND
    history = f"/admin/representatives/representative/{contact.pk}/history/"
    # Django sends the history's address of a deleted object to the start page.
    assert content_editor.get(history).status_code == HTTPStatus.FOUND
    return contact


def test_a_superuser_finds_who_deleted_a_contact(admin_client, deleted_contact):
    assert "Журнал действий" in text(admin_client.get("/admin/"))
    page = text(admin_client.get(LOG, {"action_flag": "3", "q": "Журналова"}))
    row = page.split('id="result_list"')[1].split("</table>")[0]
    for shown in ("redaktor", "Удаление", "Страховой представитель (Журналова Ю.)"):
        assert shown in row
    assert "1 действие" in page
    # The filters are in Russian and offer what the journal holds.
    for offered in ("Добавление", "Изменение", "тип объекта", "Страховой представитель"):
        assert offered in page
    user = LogEntry.objects.get().user
    by_user = text(admin_client.get(LOG, {"user__id__exact": user.pk}))
    assert "Журналова" in by_user
    assert "Журналова" not in text(admin_client.get(LOG, {"action_flag": "1"}))


def test_the_journal_is_read_only_even_for_superusers(admin_client, deleted_contact):
    entry = LogEntry.objects.get()
    change = f"{LOG}{entry.pk}/change/"
    page = text(admin_client.get(change))
    assert "Удаление" in page and "redaktor" in page
    assert 'name="_save"' not in page
    assert admin_client.get(f"{LOG}add/").status_code == HTTPStatus.FORBIDDEN
    tampered = {"object_repr": "ничего не удалено", "action_flag": "1"}
    assert admin_client.post(change, tampered).status_code == HTTPStatus.FORBIDDEN
    delete = f"{LOG}{entry.pk}/delete/"
    assert admin_client.post(delete, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    admin_client.post(LOG, bulk)
    assert LogEntry.objects.get().object_repr == "Страховой представитель (Журналова Ю.)"


def test_an_editor_without_the_right_does_not_see_the_journal(content_editor, deleted_contact):
    entry = LogEntry.objects.get()
    assert content_editor.get(LOG).status_code == HTTPStatus.FORBIDDEN
    assert content_editor.get(f"{LOG}{entry.pk}/change/").status_code == HTTPStatus.FORBIDDEN
    assert "Журнал действий" not in text(content_editor.get("/admin/"))
    # Given «admin.view_logentry» by an operator, they read it.
    editor = entry.user
    editor.user_permissions.add(Permission.objects.get(codename="view_logentry"))
    assert "Журналова" in text(content_editor.get(LOG))


def test_entries_of_appeals_stay_with_the_group_that_reads_appeals(
    admin_client, admin_user, regions
):
    """Appeals are for the group «Обращения» only, superusers included: the journal does not
    name them to anyone else."""
    appeal, _ = make_appeal()
    LogEntry.objects.log_actions(
        user_id=admin_user.pk,
        queryset=Appeal.objects.filter(pk=appeal.pk),
        action_flag=CHANGE,
        change_message="Изменено: ответ.",
    )
    assert LogEntry.objects.filter(object_repr=str(appeal)).exists()
    page = text(admin_client.get(LOG))
    assert "0 действий" in page
    assert str(appeal) not in page.split('id="changelist"')[1]
    appeal_type = ContentType.objects.get_for_model(Appeal).pk
    filtered = admin_client.get(LOG, {"content_type__id__exact": appeal_type})
    assert str(appeal) not in text(filtered).split('id="changelist"')[1]
