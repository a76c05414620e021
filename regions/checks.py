"""«Проверено»: the date a staff member checked a record against its official source, and who.

Shared by the legal references (checked against the official text of the act) and the regions'
fund contacts (checked against the fund's own site). The check covers what was checked: an
edit of a checked field in admin takes the mark away until someone checks again.
"""

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models, transaction
from django.template.response import TemplateResponse
from django.utils import timezone

from .caching import content_writes

# A check older than this is shown to staff as due again.
CHECK_VALID_FOR = datetime.timedelta(days=365)


def checked_on_field(verbose_name: str = "проверено") -> models.DateField:
    return models.DateField(verbose_name, null=True, blank=True, editable=False)


def checked_by_field(verbose_name: str = "кто проверил") -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )


def check_is_due(checked_on: datetime.date | None, *, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return checked_on is None or today - checked_on > CHECK_VALID_FOR


class MarkCheckedForm(forms.ModelForm):
    mark_checked = forms.BooleanField(required=False)


class MarkCheckedAdmin(admin.ModelAdmin):
    """Admin for a model with ``checked_on`` and ``checked_by``.

    The change form gets a «сверено» checkbox; saving with it ticked records today and the
    user. Saving a change to one of ``checked_content_fields`` without it clears the mark.
    """

    form = MarkCheckedForm
    checked_content_fields: tuple[str, ...] = ()
    mark_checked_label = "Я сверил(а) эти данные с официальным источником"
    # The field with the official source's address, listed on the list action's confirmation.
    checked_source_field = ""
    actions = ["mark_checked"]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "checked_on", "checked_by")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "mark_checked" in form.base_fields:
            form.base_fields["mark_checked"].label = self.mark_checked_label
        return form

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("mark_checked"):
            _mark(obj, request.user)
        elif (
            change and obj.checked_on and set(form.changed_data) & set(self.checked_content_fields)
        ):
            obj.checked_on = None
            obj.checked_by = None
            messages.warning(
                request,
                f"«{obj}»: данные изменены, отметка о проверке снята. "
                "Сверьте их с источником и отметьте снова.",
            )
        super().save_model(request, obj, form, change)

    def why_not_checkable(self, obj) -> str:
        """Why the record cannot be marked checked as it stands; empty when it can. The list
        action marks the others and says this of each one it leaves."""
        return ""

    @admin.action(description="Отметить: сверено сегодня мной", permissions=["change"])
    def mark_checked(self, request, queryset):
        reasons = {obj.pk: self.why_not_checkable(obj) for obj in queryset}
        refused = [reason for reason in reasons.values() if reason]
        queryset = queryset.filter(pk__in=[pk for pk, reason in reasons.items() if not reason])
        if not queryset:
            for reason in refused:
                self.message_user(request, reason, messages.ERROR)
            return None
        if request.POST.get("post") != "yes":
            # «Select all» and one click marked every fund or act checked, and the pages said
            # so to citizens: first the list, each with the source to open, and a «yes».
            return TemplateResponse(
                request,
                "admin/mark_checked_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Отметить как сверенные сегодня",
                    "opts": self.model._meta,
                    "records": [
                        (obj, getattr(obj, self.checked_source_field, "")) for obj in queryset
                    ],
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "label": self.mark_checked_label,
                    "refused": refused,
                },
            )
        # One save per row, so that the history sees each of them; the cache, once.
        with transaction.atomic(), content_writes():
            for obj in queryset:
                _mark(obj, request.user)
                obj.save(update_fields=["checked_on", "checked_by"])
                self.log_change(request, obj, "Отмечено: сверено с источником.")
        self.message_user(request, f"Отмечено как сверенное сегодня: {len(queryset)}.")
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.display(description="проверено", ordering="checked_on")
    def check_status(self, obj):
        if obj.checked_on is None:
            return "не проверено"
        due = " — пора проверить снова" if check_is_due(obj.checked_on) else ""
        return f"{obj.checked_on:%d.%m.%Y}{due}"


def _mark(obj, user) -> None:
    obj.checked_on = timezone.localdate()
    obj.checked_by = user if user.is_authenticated else None
