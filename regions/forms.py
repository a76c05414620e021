"""Form fields shared by the apps' forms and admin."""

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property


class LineBreaksField(forms.CharField):
    """Text with line breaks as the database keeps them (LF). Browsers send a textarea's line
    breaks as CR LF: counted twice against a length limit the browser itself counts once, and
    read as a change of every multi-line value on each admin save (a history entry for phones
    nobody touched, and an inline row saved over what an import had written meanwhile)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


def opened_at_field() -> forms.CharField:
    """The record's ``updated_at`` when its form was opened (declare it on the form as
    ``opened_at``, and list it in the admin's fields)."""
    # Hidden, but admin still writes its label into the page (as «Opened at» without one).
    return forms.CharField(label="Когда открыта страница", widget=forms.HiddenInput, required=False)


class SavedMeanwhileCheck:
    """A ModelForm mixin: refuses a form opened before a colleague saved the same record.

    Django's admin saves every field of the form: the other person's change was silently
    undone (a checked fund phone and its source, an answer already mailed). With
    ``LockedForSave`` on the admin, two saves at the same moment cannot both pass.
    """

    stale_message = (
        "Пока вы работали с этой страницей, её сохранил другой сотрудник, и ваши изменения не"
        " сохранены, чтобы не затереть его. Скопируйте то, что вписали, откройте страницу"
        " заново и внесите правку."
    )
    # Whether a POST without the field (a script, an old test) is refused too.
    opened_at_required = False
    # Whether a form that changes nothing is refused too. Not a changelist's row: Django's list
    # writes only the rows that differ from the database, so an untouched row undoes nothing.
    unchanged_refused = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened_at"].initial = self.instance.updated_at.isoformat()

    @cached_property
    def changed_data(self):
        # Opening a page changes no record. After a colleague's save the field differs from the
        # record, and counted as a change it made the list write (and log) rows nobody edited.
        return [name for name in super().changed_data if name != "opened_at"]

    def clean(self):
        cleaned = super().clean()
        opened = cleaned.get("opened_at")
        if (
            self.instance.pk
            and (opened or self.opened_at_required)
            and opened != self.instance.updated_at.isoformat()
            and (self.unchanged_refused or self.changed_data)
        ):
            raise forms.ValidationError(self.stale_message, code="stale")
        return cleaned


class LockedForSave:
    """A ModelAdmin mixin: the record is locked from its read until the save commits
    (changeform_view runs in a transaction), so a colleague's save at the same moment waits,
    then finds the record changed."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "POST":
            # no_key: rows that refer to this one (a citizen's appeal for the region, a new
            # contact) are not held up by an editor's save; PostgreSQL only, SQLite locks nothing.
            obj = type(obj)._default_manager.select_for_update(no_key=True).get(pk=obj.pk)
        return obj


def not_in_future(date, what: str = "Дата сведений"):
    """A date of a source, a file or an act that has not happened yet is a typo."""
    if date and date > timezone.localdate():
        raise forms.ValidationError(f"{what} не может быть позже сегодняшней.")
    return date
