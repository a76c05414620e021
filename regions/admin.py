import errno
import logging

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst

from .admin_history import ValuesInHistory
from .checks import MarkCheckedAdmin, MarkCheckedForm
from .forms import LockedForSave, SavedMeanwhileCheck, not_in_future, opened_at_field
from .models import Region, RegistryFile, Subject
from .validators import registry_file_rules

logger = logging.getLogger(__name__)

# What a full disk or an exhausted quota says: the one failure staff can explain in a sentence.
OUT_OF_SPACE = {errno.ENOSPC, errno.EDQUOT}


def os_error_name(error: OSError) -> str:
    """ENOSPC, EACCES …: what an administrator looks up; never the path."""
    return errno.errorcode.get(error.errno, type(error).__name__)


def not_stored_message(error: OSError) -> str:
    if error.errno in OUT_OF_SPACE:
        return (
            "Не удалось сохранить файл: на сервере не хватает места. Сообщите администратору"
            " сайта и загрузите файл снова, когда место освободят."
        )
    return (
        "Не удалось сохранить файл: сервер не смог записать его на диск (ошибка"
        f" {os_error_name(error)}). Сообщите администратору сайта."
    )


class RegionPageInline:
    """A mixin for the inlines other apps show on a region's page."""

    def rows_elsewhere(self, request, region) -> str:
        """HTML the page shows instead of the rows when they are too many for it (every row is
        sent and posted back); empty when the rows are shown."""
        return ""


# Inlines other apps show on a region's page (representatives): regions knows none of them.
_region_inlines: list[type[RegionPageInline]] = []


def add_region_inline(inline: type[RegionPageInline]) -> None:
    if inline not in _region_inlines:
        _region_inlines.append(inline)


class LabelledInlineFormSet(forms.BaseInlineFormSet):
    """Rows repeating what must be unique are named by their labels, not by field names
    (Django's message says «в поле weekday и opens»)."""

    def get_unique_error_message(self, unique_check):
        # The row's parent is the same for every row: not worth naming.
        labels = [
            str(self.form.base_fields[name].label)
            for name in unique_check
            if name in self.form.base_fields and name != self.fk.name
        ]
        named = " и ".join(f"«{label}»" for label in labels)
        verb = "совпадает" if len(labels) == 1 else "совпадают"
        return f"Исправьте повторяющиеся строки: у двух строк {verb} {named}."


TFOMS_FIELDS = (
    "tfoms_name",
    "tfoms_phone",
    "tfoms_site",
    "tfoms_address",
    "tfoms_source",
    "tfoms_source_url",
    "tfoms_source_date",
)


# What pages show of the fund, crediting the source beside it («По данным на 14.05.2026,
# источник: …»): a value typed in needs its own source named, or a check on the fund's site.
FUND_CONTACT_FIELDS = ("tfoms_name", "tfoms_phone", "tfoms_site", "tfoms_address")


HEALTH_FIELDS = ("health_name", "health_phone", "health_site", "health_address")
HEALTH_SOURCE_FIELDS = ("health_source", "health_source_url", "health_source_date")


class RegistryFileAdminForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # From the validator's own values, so the help cannot drift from what it checks.
        self.fields["file"].help_text = registry_file_rules()

    def clean_published_on(self):
        # A future date was shown as «опубликован 1 января 2030» and listed first.
        return not_in_future(self.cleaned_data.get("published_on"), "Дата публикации")

    def full_clean(self):
        super().full_clean()
        # The upload is stored here, once everything else is valid, not in the model's save():
        # there a full disk was the public 500 page and the typed fields were lost. Stored
        # now, a failure is an error on the form, shown with what staff typed. (A save that
        # fails part-way leaves no file: omsportal.storage.)
        if self.errors or "file" not in self.changed_data or not self.instance.file:
            return
        field_file = self.instance.file
        try:
            field_file.save(field_file.name, field_file.file, save=False)
        except OSError as error:
            logger.error("Registry file not stored: %s", os_error_name(error))
            self.add_error("file", not_stored_message(error))


class RegionAdminForm(SavedMeanwhileCheck, MarkCheckedForm):
    opened_at = opened_at_field()

    def clean_tfoms_source_date(self):
        return not_in_future(self.cleaned_data.get("tfoms_source_date"))

    def clean_health_source_date(self):
        return not_in_future(self.cleaned_data.get("health_source_date"))

    def clean(self):
        cleaned = super().clean()
        self.check_health_source(cleaned)
        self.check_fund_source(cleaned)
        return cleaned

    def require_source(self, cleaned: dict, **messages: str) -> None:
        for name, message in messages.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)

    def typed_in(self, cleaned: dict, fields: tuple[str, ...]) -> list[str]:
        """The labels of those fields given a new value (clearing one needs no source)."""
        changed = set(self.changed_data)
        return [
            f"«{self.fields[name].label}»"
            for name in fields
            if name in changed and cleaned.get(name)
        ]

    def check_health_source(self, cleaned: dict) -> None:
        """Citizens are shown where a contact comes from and how old it is; these have no
        source of their own in the reference data."""
        if not any(cleaned.get(name) for name in HEALTH_FIELDS):
            return
        self.require_source(
            cleaned,
            health_source="Укажите, откуда взяты контакты органа здравоохранения.",
            health_source_date="Укажите, на какую дату источник приводит контакты.",
        )
        # Unlike the fund's, this source is always staff's own and there is no «сверено» to
        # tick: a new date restates it (the same ministry's site, read again today).
        restated = set(self.changed_data) & set(HEALTH_SOURCE_FIELDS)
        typed = self.typed_in(cleaned, HEALTH_FIELDS)
        if typed and not restated and cleaned.get("health_source"):
            self.add_error(
                None,
                f"Изменено: {', '.join(typed)}, а источник и дата прежние. Сайт покажет, что "
                "новые контакты органа здравоохранения взяты из прежнего источника. Укажите, "
                "откуда они и на какую дату.",
            )

    def check_fund_source(self, cleaned: dict) -> None:
        """The fund's name, site, phone and address are shown with the source they came from,
        or as checked on the fund's site. The compilation the regions came from (tfoms.csv)
        gave names and sites only, of one date."""
        if cleaned.get("mark_checked") or not any(
            cleaned.get(name) for name in FUND_CONTACT_FIELDS
        ):
            return  # checked today, or nothing to credit: clearing a wrong phone needs no source
        self.require_source(
            cleaned,
            tfoms_source="Укажите, откуда взяты сведения о фонде.",
            tfoms_source_date="Укажите, на какую дату источник приводит сведения о фонде.",
        )
        changed = set(self.changed_data)
        # A new date alone says the old source gave them: only naming the source does.
        if changed & {"tfoms_source", "tfoms_source_url"} or not cleaned.get("tfoms_source"):
            return
        typed = self.typed_in(cleaned, FUND_CONTACT_FIELDS)
        # An edit of the fund's fields takes a check away (MarkCheckedForm): what was checked
        # would then be credited to the source.
        unchecked = self.instance.checked_on and changed & set(TFOMS_FIELDS)
        if typed or unchecked:
            what = f"Изменено: {', '.join(typed)}. " if typed else ""
            self.add_error(
                None,
                f"{what}Сайт покажет, что сведения о фонде взяты из прежнего источника. Укажите, "
                "откуда они (источник и ссылка, дата), или отметьте «сверено», если проверили "
                "их на официальном сайте фонда сегодня.",
            )


class SaysWhyKept:
    """Admin for a model some of whose rows cannot be deleted, for a reason staff can act on:
    the delete page, and «Удалить выбранное: …» in the list, give ``why_kept``'s reasons, for
    every staff member, and delete nothing.

    Without it Django said the account lacked the right to delete something (a region's
    appeals: nobody deletes them, appeals.admin.MembersOnly), and superusers went asking for
    it; and ``has_delete_permission(obj)`` returning False instead made the delete page the
    public site's bare 403, and the list's action name the model among the rights lacking.
    """

    delete_confirmation_template = "admin/kept/delete_confirmation.html"
    delete_selected_confirmation_template = "admin/kept/delete_selected_confirmation.html"
    # What to do instead, said after the reasons.
    kept_advice = ""

    def why_kept(self, objs) -> list[str]:
        """One sentence per object that must stay; empty when all may go."""
        return []

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        reasons = self.why_kept(objs)
        if reasons:
            # Nothing can be deleted anyway, so no rights are named.
            return deleted, counts, set(), [*reasons, self.kept_advice]
        return deleted, counts, perms_needed, protected


@admin.register(Region)
class RegionAdmin(ValuesInHistory, SaysWhyKept, LockedForSave, MarkCheckedAdmin):
    form = RegionAdminForm
    list_display = (
        "name",
        "code",
        "iso_code",
        "time_zone",
        "is_default",
        "has_contacts",
        "check_status",
        "files",
    )
    list_display_links = ("name",)
    list_filter = ("is_default", "time_zone")
    search_fields = ("name", "code", "iso_code", "slug", "okato")
    ordering = ("order", "name")
    readonly_fields = ("updated_at",)
    # What pages, saved choices and the journey's links are keyed by: changing one breaks them
    # (a region page's address 404s, visitors who chose it lose it). Superusers only.
    KEYS = ("code", "okato", "iso_code", "slug", "time_zone")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and not request.user.is_superuser:
            fields = (*fields, *self.KEYS)
        # Where new appeals are announced (their number, topic and admin link): set by whoever
        # may read appeals. A content editor could send the stream to any address, or stop it.
        if not request.user.has_perm("appeals.view_appeal"):
            fields = (*fields, "appeals_email")
        return fields

    mark_checked_label = "Я сверил(а) контакты фонда с его официальным сайтом сегодня"
    # What the «сверено» mark covers: editing any of these takes it away.
    checked_content_fields = TFOMS_FIELDS
    checked_source_field = "tfoms_site"
    # Staff paste bare domains; official sites are served over HTTPS.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "order", "is_default", "hotline_phone", "opened_at")}),
        (
            "Коды и названия",
            {"fields": ("code", "okato", "iso_code", "slug", "time_zone", "name_in", "name_of")},
        ),
        (
            "Территориальный фонд ОМС",
            {
                "fields": (*TFOMS_FIELDS, "mark_checked", "checked_on", "checked_by"),
                "description": "Телефон и адрес вносите только с официального сайта фонда "
                "или из справочника ФФОМС F001, не по памяти. Сайт показывает гражданам "
                "источник и дату; отметка «сверено» — что сотрудник проверил контакты "
                "на сайте фонда.",
            },
        ),
        (
            "Орган здравоохранения",
            {
                "fields": (*HEALTH_FIELDS, *HEALTH_SOURCE_FIELDS),
                "description": "Контакты вносите только с официального сайта органа "
                "здравоохранения, с источником и датой: сайт показывает их гражданам.",
            },
        ),
        ("Письменные обращения", {"fields": ("appeals_email",)}),
        (None, {"fields": ("updated_at",)}),
    )

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *_region_inlines]

    def inlines_with_notes(self, request, obj) -> list[tuple[RegionPageInline, str]]:
        inlines = super().get_inline_instances(request, obj)
        if obj is None or request is None:
            return [(inline, "") for inline in inlines]
        return [(inline, inline.rows_elsewhere(request, obj)) for inline in inlines]

    def get_inline_instances(self, request, obj=None):
        return [inline for inline, note in self.inlines_with_notes(request, obj) if not note]

    def get_fieldsets(self, request, obj=None):
        # A fieldset of no fields: its description is the line that says where the rows are.
        notes = [
            (capfirst(inline.verbose_name_plural), {"fields": (), "description": note})
            for inline, note in self.inlines_with_notes(request, obj)
            if note
        ]
        return (*super().get_fieldsets(request, obj), *notes)

    kept_advice = (
        "Регионы — это субъекты РФ, в которых работает компания: удалять регион почти никогда "
        "не нужно. Если в его данных ошибка, исправьте их на странице региона."
    )

    def why_kept(self, objs) -> list[str]:
        # What holds a region is its appeals (Appeal.region is PROTECT); the appeals are not
        # named, their numbers are for the group «Обращения» only.
        held = Region.objects.filter(pk__in=[region.pk for region in objs], appeals__isnull=False)
        return [
            f"Регион «{region}» нельзя удалить: по нему есть обращения граждан."
            for region in held.distinct()
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(file_count=Count("registry_files"))

    @admin.display(description="контакты ТФОМС", boolean=True)
    def has_contacts(self, region):
        return region.has_tfoms

    @admin.display(description="файлов", ordering="file_count")
    def files(self, region):
        return region.file_count


@admin.register(RegistryFile)
class RegistryFileAdmin(ValuesInHistory, admin.ModelAdmin):
    form = RegistryFileAdminForm
    list_display = ("title", "kind", "region_name", "published_on", "human_size")
    list_filter = ("kind", ("region", admin.RelatedOnlyFieldListFilter), "published_on")
    search_fields = ("title",)
    date_hierarchy = "published_on"
    # The region is a plain select, not autocomplete: autocomplete's select is filled by
    # JavaScript, and without it a regional file was saved as one for all Russia. 23 regions fit.
    readonly_fields = ("human_size", "updated_at")
    list_select_related = ("region",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            # An empty choice is a file for all Russia: say so, not «---------».
            kwargs["empty_label"] = "Вся Россия"
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="регион", ordering="region__order")
    def region_name(self, registry_file):
        return registry_file.region.name if registry_file.region_id else "Вся Россия"

    @admin.display(description="размер")
    def human_size(self, registry_file):
        return filesizeformat(registry_file.size)


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "iso_code", "time_zone", "federal_district")
    list_filter = ("federal_district", "time_zone")
    search_fields = ("name", "code", "iso_code", "slug", "okato")
