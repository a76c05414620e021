import copy

from django import forms
from django.contrib import admin, messages
from django.db import models

from regions.admin import LabelledInlineFormSet, SaysWhyKept
from regions.admin_history import ValuesInHistory
from regions.checks import MarkCheckedAdmin, MarkCheckedForm
from regions.forms import not_in_future

from .citations import cited
from .models import EXPIRED_ADVICE, LegalAct, LegalProvision


class LegalProvisionForm(forms.ModelForm):
    def clean_slug(self):
        # Templates cite provisions by this code ({% cite %}): changed, a citation would vanish
        # from the pages without a word.
        slug = self.cleaned_data["slug"]
        if self.instance.pk and slug != self.instance.slug:
            raise forms.ValidationError(
                "Код положения не меняется: по нему страницы сайта ссылаются на положение."
                " Нужен другой код — добавьте новое положение, а это удалите."
            )
        return slug


class CitedProvisionsFormSet(LabelledInlineFormSet):
    def clean(self):
        super().clean()
        # Deleted, a cited provision vanished from its citation without a word («Основание:
        # Федеральный закон …» without «ст. 35»).
        in_use = cited().get(self.instance.slug, frozenset())
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.slug in in_use:
                raise forms.ValidationError(
                    f"Положение «{form.instance.text}» цитируют страницы сайта: его нельзя "
                    "удалить. Исправьте его текст, если он изменился."
                )


class LegalProvisionInline(admin.TabularInline):
    model = LegalProvision
    form = LegalProvisionForm
    formset = CitedProvisionsFormSet
    extra = 0
    fields = ("text", "slug", "summary", "order")


class LegalActForm(MarkCheckedForm):
    def clean_signed_on(self):
        # Published under «Проверено» as an act of 15.12.2030.
        return not_in_future(self.cleaned_data.get("signed_on"), "Дата акта")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("in_force_from"), cleaned.get("in_force_until")
        if start and end and end < start:
            # A slip of the year: the pages would call the act out of date the day it is entered.
            self.add_error("in_force_until", "«Действует по» не может быть раньше «действует с».")
        # The act as it would be saved: the date or number may be typed in with the mark.
        act = copy.copy(self.instance)
        for name in ("kind", "signed_on", "number", "title", "document", "in_force_from", "slug"):
            if name in cleaned:
                setattr(act, name, cleaned[name])
        # An act no page cites may wait for its details; a cited one is printed as it stands.
        if act.slug in cited() and (reason := act.why_not_findable()):
            self.add_error(None, reason)
        elif cleaned.get("mark_checked") and (reason := act.why_not_checkable()):
            self.add_error("mark_checked", reason)
        return cleaned


@admin.register(LegalAct)
class LegalActAdmin(ValuesInHistory, SaysWhyKept, MarkCheckedAdmin):
    form = LegalActForm
    list_display = (
        "name",
        "kind",
        "in_force_from",
        "in_force_until",
        "has_link",
        "check_status",
        "checked_by",
    )
    list_filter = ("kind",)
    list_select_related = ("checked_by",)
    search_fields = ("title", "document", "number", "slug")
    inlines = [LegalProvisionInline]
    readonly_fields = ("updated_at",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    mark_checked_label = (
        "Я сверил(а) реквизиты, положения и ссылку с официальным текстом акта сегодня"
    )
    checked_source_field = "url"
    checked_content_fields = (
        "kind",
        "signed_on",
        "number",
        "title",
        "document",
        "document_genitive",
        "url",
        "in_force_from",
        "in_force_until",
    )
    fieldsets = (
        (None, {"fields": ("kind", "signed_on", "number", "title")}),
        (
            "Если акт утверждает документ",
            {"fields": ("document", "document_genitive")},
        ),
        (None, {"fields": ("url", "in_force_from", "in_force_until", "slug", "order")}),
        (
            "Проверка",
            {
                "fields": ("mark_checked", "checked_on", "checked_by", "updated_at"),
                "description": "Отметку ставят, когда открыли официальный текст акта и "
                "сверили с ним всё, что здесь записано. Изменение реквизитов снимает отметку.",
            },
        ),
    )

    kept_advice = (
        "Если акт изменён или заменён, исправьте его реквизиты и положения на странице акта и "
        "отметьте, что сверили их с официальным текстом."
    )

    def why_kept(self, objs) -> list[str]:
        # A cited act, deleted, vanished from the pages it is the basis of.
        in_use = cited()
        return [
            f"«{act.full_name}» нельзя удалить: на него ссылаются страницы сайта."
            for act in objs
            if act.slug in in_use
        ]

    def why_not_checkable(self, act) -> str:
        return act.why_not_checkable()

    def get_readonly_fields(self, request, obj=None):
        # Templates cite the act by this code ({% cite "326-fz" … %}): changed, its citations
        # would vanish from the pages without a word.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "slug") if obj is not None else fields

    @admin.display(description="акт")
    def name(self, act):
        return act.full_name

    @admin.display(description="проверено", ordering="checked_on")
    def check_status(self, act):
        # A check of an act past its term no longer counts (the pages drop «Проверено»).
        if act.expired:
            return f"в силе по {act.in_force_until:%d.%m.%Y}: {EXPIRED_ADVICE}"
        return super().check_status(act)

    @admin.display(description="ссылка", boolean=True)
    def has_link(self, act):
        return bool(act.url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        act = form.instance
        edited_provisions = any(formset.has_changed() for formset in formsets)
        if (
            change
            and edited_provisions
            and act.checked_on
            and not form.cleaned_data.get("mark_checked")
        ):
            # The cited provisions are part of what was checked.
            act.checked_on = None
            act.checked_by = None
            act.save(update_fields=["checked_on", "checked_by"])
            # Said, as for an edit of the act itself: the pages now say «ещё не сверены».
            messages.warning(
                request,
                f"«{act}»: статьи изменены, отметка о проверке снята. "
                "Сверьте их с официальным текстом и отметьте снова.",
            )
