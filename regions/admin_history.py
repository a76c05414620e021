"""«История» that says what each changed field was and what it became.

Django's admin records only the names of the fields an edit changed («Изменено: ТФОМС: сайт»):
a fund's name or site cleared by mistake could be neither seen nor restored. ``ValuesInHistory``
writes each field's old and new value into the entry instead.

What the admins that use it hold is public (it is on the site or the company's documents): the
regions' funds and health authorities, representatives and their hours (a representative's name
is printed on the region's page), legal acts, registry files, «Сведения о компании». The one
exception is a region's ``appeals_email``, an internal staff mailbox: its old and new value go
into the history too, since only staff who may edit regions see that history. A model that
holds personal data (appeals) keeps its own history (django-simple-history), not this one.
"""

import copy
import datetime
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.db import models
from django.db.models.fields import BLANK_CHOICE_DASH
from django.utils import timezone, translation
from django.utils.choices import flatten_choices
from django.utils.translation import gettext

EMPTY = "(пусто)"
# A longer value is cut: the start is enough to recognise a long note, and the history page
# stays readable.
LONGEST = 200
NO_CHOICE = BLANK_CHOICE_DASH[0][1]  # «---------», which admin shows for no choice


def quoted(text) -> str:
    """A value as history shows it: in quotes, on one line, at most LONGEST characters."""
    # Line breaks as the spreadsheet import writes phones (one per line in the database).
    text = "; ".join(line.strip() for line in str(text).splitlines() if line.strip())
    if not text:
        return EMPTY
    if len(text) > LONGEST:
        text = text[:LONGEST].rstrip() + "…"
    return f"«{text}»"


def change_line(label: str, old, new) -> str:
    """«ТФОМС: сайт: «https://old.example» → «https://new.example»», or «… → (пусто)»."""
    return f"{label}: {quoted(old)} → {quoted(new)}"


def shown(field: forms.Field, value) -> str:
    """A form field's value as admin shows it: choices by label, «да»/«нет», dates as
    dd.mm.yyyy, files by name; empty as ""."""
    if isinstance(value, list | tuple | models.QuerySet):
        return ", ".join(shown(field, item) for item in value)
    if isinstance(field, forms.BooleanField) and value is not None:
        return "да" if value else "нет"
    if isinstance(field, forms.ModelChoiceField):
        return _object_label(field, value)
    if isinstance(field, forms.ChoiceField):
        labels = {str(key): label for key, label in flatten_choices(field.choices)}
        label = labels.get(str(value), "" if value is None else value)
        return "" if label == NO_CHOICE else str(label)
    if isinstance(field, forms.FileField):
        return PurePosixPath(value.name).name if value else ""  # False: cleared
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%d.%m.%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, datetime.time):
        return f"{value:%H:%M}"
    return str(value)


def _object_label(field: forms.ModelChoiceField, value) -> str:
    if value in (None, ""):
        # A registry file's empty region is «Вся Россия» in its select.
        empty = field.empty_label
        return "" if empty in (None, NO_CHOICE) else str(empty)
    if not isinstance(value, models.Model):  # the form's initial value is the key
        found = field.queryset.filter(**{field.to_field_name or "pk": value}).first()
        if found is None:
            return str(value)  # deleted since
        value = found
    return str(field.label_from_instance(value))


def field_changes(form: forms.BaseForm, names: list[str]) -> str:
    lines = []
    for name in names:
        field = form.fields.get(name)
        if field is None:
            lines.append(name)
            continue
        label = str(field.label or name)
        if isinstance(field.widget, forms.PasswordInput):
            lines.append(label)  # a secret is never written down, even for staff
            continue
        old = shown(field, form.get_initial_for_field(field, name))
        lines.append(change_line(label, old, shown(field, form.cleaned_data.get(name))))
    return "; ".join(lines)


def as_saved(row: forms.ModelForm) -> models.Model:
    """A deleted row as it was saved. A row shown read-only (contacts on a region's page) posts
    none of its values, and its form wrote the blanks into the instance: Django named a deleted
    contact without the person."""
    saved = copy.copy(row.instance)
    for name, value in row.initial.items():
        field = saved._meta.get_field(name) if name in row.fields else None
        if field is not None and field.concrete and not field.many_to_many:
            setattr(saved, field.attname, value)
    return saved


def described_changes(form: forms.BaseForm, formsets) -> str:
    """An edit of a record and its inline rows, in the words of Django's own history messages
    (which omsportal/locale rewords), each changed field with its old and new value."""
    lines = []
    if form.changed_data:
        fields = field_changes(form, form.changed_data)
        lines.append(gettext("Changed {fields}.").format(fields=fields))
    for formset in formsets:
        form_of = {id(row.instance): row for row in formset.forms}
        for added in formset.new_objects:
            lines.append(
                gettext("Added {name} “{object}”.").format(
                    name=added._meta.verbose_name, object=added
                )
            )
        for changed, names in formset.changed_objects:
            lines.append(
                gettext("Changed {fields} for {name} “{object}”.").format(
                    fields=field_changes(form_of[id(changed)], names),
                    name=changed._meta.verbose_name,
                    object=changed,
                )
            )
        for deleted in formset.deleted_objects:
            lines.append(
                gettext("Deleted {name} “{object}”.").format(
                    name=deleted._meta.verbose_name, object=as_saved(form_of[id(deleted)])
                )
            )
    return " ".join(lines)


class ValuesInHistory:
    """A ModelAdmin mixin: the «История» of an edit names each changed field with its old and
    new value, and which inline rows were added, changed (with their values) or deleted.

    The entry is a plain string: ``LogEntry.get_change_message`` shows a message that is not
    JSON as it is, on the history page and wherever admin names the change.
    """

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        if add or not message:
            # An addition has no old values to keep; an edit that changed nothing keeps
            # Django's «Ни одно поле не изменено».
            return message
        # Stored in the site's language, as the history page would have translated it.
        with translation.override(settings.LANGUAGE_CODE):
            return described_changes(form, formsets or ())
