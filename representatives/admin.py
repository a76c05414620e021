from django import forms
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from regions.admin import LabelledInlineFormSet, RegionPageInline, add_region_inline
from regions.admin_history import ValuesInHistory
from regions.forms import LineBreaksField, LockedForSave, SavedMeanwhileCheck, opened_at_field

from .admin_import import SpreadsheetImportAdmin
from .hours import Interval, check_intervals
from .models import ReceptionHours, Representative, validate_not_sample


class ReceptionHoursFormSet(LabelledInlineFormSet):
    def clean(self):
        super().clean()
        intervals = [
            Interval(
                form.cleaned_data["weekday"],
                form.cleaned_data["opens"],
                form.cleaned_data["closes"],
            )
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and all(
                form.cleaned_data.get(key) is not None for key in ("weekday", "opens", "closes")
            )
        ]
        check_intervals(intervals)


class ReceptionHoursInline(admin.TabularInline):
    model = ReceptionHours
    formset = ReceptionHoursFormSet
    # Empty rows for staff without JavaScript («Добавить ещё» needs it): a day with a break is
    # two intervals.
    extra = 2


# Multi-line fields (phones, address, notes) as the browser sends them, read as saved.
LINE_BREAKS = {models.TextField: {"form_class": LineBreaksField}}


class NoSampleValues:
    """A ModelForm mixin: every text a contact's form takes is refused with the sample file's
    mark, as the import refuses it in any cell."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and not field.widget.is_hidden:
                field.validators.append(validate_not_sample)


class RepresentativeAdminForm(NoSampleValues, SavedMeanwhileCheck, forms.ModelForm):
    opened_at = opened_at_field()


class RepresentativeInlineForm(NoSampleValues, forms.ModelForm):
    pass


class RepresentativeRowForm(SavedMeanwhileCheck, forms.ModelForm):
    """A row of the contacts' list («Порядок», «Показывать»)."""

    opened_at = opened_at_field()
    unchanged_refused = False
    stale_message = (
        "Пока список был открыт, этот контакт сохранил другой сотрудник. Список не сохранён,"
        " чтобы не отменить его правку. Запомните, что вписали, откройте список заново и"
        " внесите изменения."
    )


@admin.register(Representative)
class RepresentativeAdmin(ValuesInHistory, SpreadsheetImportAdmin, LockedForSave, admin.ModelAdmin):
    form = RepresentativeAdminForm
    list_display = ("role", "person", "region", "level", "phone_list", "order", "is_active")
    list_display_links = ("role",)
    list_editable = ("order", "is_active")
    list_filter = ("level", "region", "is_active")
    list_select_related = ("region",)
    search_fields = ("role", "person", "phones", "email", "address", "code", "region__name")
    formfield_overrides = LINE_BREAKS
    # The region is a plain select: autocomplete's is filled by JavaScript, and without it the
    # select stayed empty and no contact could be added. 23 regions fit in a select.
    readonly_fields = ("created_at", "updated_at")
    inlines = (ReceptionHoursInline,)
    fieldsets = (
        (None, {"fields": ("region", "level", "code", "role", "person")}),
        ("Как связаться", {"fields": ("phones", "email", "address", "notes")}),
        (None, {"fields": ("order", "is_active", "created_at", "updated_at", "opened_at")}),
    )

    def get_changelist_form(self, request, **kwargs):
        # The list saved each changed row's «Порядок» and «Показывать» as the page showed them:
        # a contact a colleague had hidden since was shown again, and no one was told.
        return super().get_changelist_form(request, form=RepresentativeRowForm, **kwargs)

    @admin.display(description="телефоны")
    def phone_list(self, representative):
        return ", ".join(phone for phone, _ in representative.phone_links)


# The most contacts a region's page shows as rows. Every row is sent and posted back: at about
# 480 the region's form had more fields than Django accepts (DATA_UPLOAD_MAX_NUMBER_FIELDS,
# 1000) and could not be saved at all, and 20,000 made a 148 MB page.
REGION_PAGE_CONTACTS = 30


class RepresentativeInline(RegionPageInline, admin.StackedInline):
    model = Representative
    form = RepresentativeInlineForm
    # One empty row: «Добавить ещё» needs JavaScript, and without it no contact could be added here.
    extra = 1
    show_change_link = True  # contacts are edited on their own page, with their hours
    formfield_overrides = LINE_BREAKS
    fields = (
        ("level", "code", "order", "is_active"),
        ("role", "person"),
        ("phones", "email"),
        "address",
        "notes",
    )

    def has_change_permission(self, request, obj=None):
        # Shown, not edited, here: a row compares with the database when the region is saved,
        # not with what the page showed, so saving a region wrote every contact's old values
        # over what an import or a colleague had saved since. New contacts can still be added.
        return False

    def rows_elsewhere(self, request, region) -> str:
        count = region.representatives.count()
        if request.method == "POST":
            # The page being saved decides: a contact typed into its rows is saved even if an
            # import has since passed the limit; a page sent without rows is saved without them.
            prefix = self.get_formset(request, region).get_default_prefix()
            shown = f"{prefix}-TOTAL_FORMS" in request.POST
        else:
            shown = count <= REGION_PAGE_CONTACTS
        if shown:
            return ""
        listed = reverse("admin:representatives_representative_changelist")
        add = reverse("admin:representatives_representative_add")
        return format_html(
            "Контактов в регионе: {} — слишком много, чтобы править их здесь. "
            '<a href="{}?region__id__exact={}">Список контактов региона</a> · '
            '<a href="{}?region={}">Добавить контакт в регион</a>',
            count,
            listed,
            region.pk,
            add,
            region.pk,
        )


add_region_inline(RepresentativeInline)
