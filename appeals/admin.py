"""Appeals in admin, for the members of the «Обращения» group only.

Membership is checked on every view, for every user: `is_staff` alone, and even
`is_superuser`, is not enough. A superuser who needs the appeals adds themselves to the group,
a deliberate step that admin's own log records.
"""

import datetime
import re
from functools import wraps
from http import HTTPStatus

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q
from django.shortcuts import render
from django.urls import URLPattern
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.cache import never_cache
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from regions.forms import LockedForSave, SavedMeanwhileCheck, opened_at_field
from regions.phones import parse_phone

from .forms import stored_phone
from .models import GROUP_NAME, AccessLog, Appeal, OutboxFailure, OutboxMail
from .services import answer_given, status_changed


def is_appeals_member(request) -> bool:
    member = getattr(request, "_appeals_member", None)
    if member is None:
        user = request.user
        member = bool(
            user.is_active and user.is_staff and user.groups.filter(name=GROUP_NAME).exists()
        )
        request._appeals_member = member
    return member


class MembersOnly:
    """Group members see and edit; nobody adds or deletes (people write, the purge erases)."""

    def get_urls(self):
        # Checked before any view of the model runs: django-simple-history's views look the id
        # up first (a missing appeal was a 404, an existing one a 403), which told outsiders
        # which appeals exist; and Django's 403 page gave no reason.
        return [
            URLPattern(url.pattern, self.members_only(url.callback), url.default_args, url.name)
            for url in super().get_urls()
        ]

    def members_only(self, view):
        @wraps(view)
        @never_cache
        def checked(request, *args, **kwargs):
            # Whoever admin would not let in (not logged in, not staff) is left to admin_view:
            # it sends them to log in.
            if self.admin_site.has_permission(request) and not is_appeals_member(request):
                return render(
                    request, "appeals/admin/members_only.html", status=HTTPStatus.FORBIDDEN
                )
            return view(request, *args, **kwargs)

        return checked

    def has_module_permission(self, request):
        return is_appeals_member(request)

    def has_view_permission(self, request, obj=None):
        return is_appeals_member(request)

    def has_change_permission(self, request, obj=None):
        return is_appeals_member(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OfferedFiltersOnly:
    """The list filtered only as its filters and date links do.

    Django lets a URL filter the list by any lookup on the model's own fields
    (``?name__icontains=…``, ``?text__icontains=СНИЛС``, ``?body__icontains=…``): a search by a
    person's details that the access log never saw, since only ``?q=`` is logged as one. Only a
    lookup on a field the list filters by (``status__exact``, ``assignee__isnull``,
    ``at__gte``), a custom filter's own parameter (``overdue``) or the date links' parts is
    allowed; Django answers any other with a 400 (DisallowedModelAdminLookup).
    """

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self._parameters(request) or lookup.partition("__")[0] in self._fields(
            request
        )

    def _fields(self, request) -> set[str]:
        fields = set()
        for entry in self.get_list_filter(request):
            field = entry[0] if isinstance(entry, (list, tuple)) else entry
            if isinstance(field, str):
                fields.add(field)
        if self.date_hierarchy:
            fields.add(self.date_hierarchy)
        return fields

    def _parameters(self, request) -> set[str]:
        return {
            entry.parameter_name
            for entry in self.get_list_filter(request)
            if isinstance(entry, type) and issubclass(entry, admin.SimpleListFilter)
        }


def assignees(holders):
    """Who an appeal can be given to: whoever can open it (is_appeals_member, active staff in
    the group); and ``holders`` (users' pks) even once they cannot. Someone who left the group,
    or the company, still holds their appeals: the form, offering only members, showed such an
    appeal as held by nobody and cleared its holder on any save, and the list's filter could
    not find what they held. Each user comes with ``can_hold``, for the label."""
    in_group = Exists(Group.objects.filter(user=OuterRef("pk"), name=GROUP_NAME))
    can_hold = Q(is_active=True, is_staff=True, in_group=True)
    return (
        get_user_model()
        .objects.annotate(in_group=in_group)
        .annotate(can_hold=ExpressionWrapper(can_hold, output_field=models.BooleanField()))
        .filter(can_hold | Q(pk__in=holders))
        .order_by("username")
    )


def assignee_label(user) -> str:
    return str(user) if user.can_hold else f"{user} (больше не ведёт обращения)"


class AssigneeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return assignee_label(obj)


class AppealAdminForm(SavedMeanwhileCheck, forms.ModelForm):
    opened_at = opened_at_field()
    stale_message = (
        "Пока вы работали с обращением, его изменил другой сотрудник, и ваши изменения не"
        " сохранены, чтобы не затереть его. Скопируйте свой текст, откройте обращение заново и"
        " внесите правку."
    )
    opened_at_required = True

    class Meta:
        model = Appeal
        fields = ("status", "assignee", "answer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            # This appeal's holder too, whoever it is (AppealAdmin makes the field an
            # AssigneeChoiceField, which marks one who can no longer hold it).
            self.fields["assignee"].queryset = assignees(holders=[self.instance.assignee_id])

    def clean(self):
        cleaned = super().clean()
        answered = {Appeal.Status.ANSWERED}
        if cleaned.get("status") in answered and not (cleaned.get("answer") or "").strip():
            self.add_error("answer", "Напишите ответ: статус «дан ответ» без ответа не ставится.")
        return cleaned


class OverdueFilter(admin.SimpleListFilter):
    title = "срок"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "просрочено"), ("no", "в срок")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(is_overdue=self.value() == "yes")
        return queryset


class AssigneeFilter(admin.RelatedFieldListFilter):
    """The people the form offers: Django's filter listed every user (other staff, superusers,
    people who left), the field itself limiting none."""

    def field_choices(self, field, request, model_admin):
        holders = Appeal.objects.filter(assignee__isnull=False).values("assignee")
        return [(user.pk, assignee_label(user)) for user in assignees(holders=holders)]


class ReadableChanges(HistoricalRecordContextHelper):
    """Versions' changes as staff read them: choices by their labels, people by name, times in
    local time, an empty value as «—» (django-simple-history shows stored values)."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value in (None, ""):
            return "—"
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if isinstance(value, DeletedObject):
            return "—" if value.pk is None else f"удалён (№ {value.pk})"
        if isinstance(value, datetime.datetime):
            return date_format(timezone.localtime(value), "DATETIME_FORMAT")
        return super().prepare_delta_change_value(change, value)


def read_pk(model_admin, object_id: str):
    """The key as admin read it from the URL ("+12" and " 12" open 12 too), None if none."""
    try:
        return model_admin.model._meta.pk.to_python(unquote(object_id))
    except ValidationError:
        return None


def log_access(request, action: str, *appeal_ids: int) -> None:
    # One INSERT for all: a search shows up to a page of appeals.
    at, username = timezone.now(), request.user.get_username()
    AccessLog.objects.bulk_create(
        AccessLog(appeal_id=pk, user=request.user, username=username, action=action, at=at)
        for pk in appeal_ids
    )


# An appeal's number, «О-2026-000002», as staff may type it: a Latin O or a small one, no letter,
# no leading zeros.
APPEAL_NUMBER = re.compile(r"(?:[OoОо]\s*-?\s*)?(\d{4})\s*-\s*(\d{1,6})")


def searched_number(query: str) -> str | None:
    if match := APPEAL_NUMBER.fullmatch(query.strip()):
        return f"О-{match[1]}-{int(match[2]):06d}"
    return None


def searched_phone(query: str) -> str | None:
    """The phone as appeals store it, if the query is one (ten digits or more)."""
    if sum(character.isdigit() for character in query) < 10:
        return None
    try:
        return stored_phone(parse_phone(query.strip()))
    except ValidationError:
        return None


@admin.register(Appeal)
class AppealAdmin(MembersOnly, OfferedFiltersOnly, LockedForSave, SimpleHistoryAdmin):
    form = AppealAdminForm
    object_history_list_template = "appeals/admin/history_list.html"
    list_display = (
        "number",
        "created_at",
        "status",
        "region",
        "topic",
        "deadline_shown",
        "assignee",
    )
    list_filter = ("status", OverdueFilter, "region", "topic", ("assignee", AssigneeFilter))
    search_fields = ("=number", "name", "email", "phone")
    list_select_related = ("region", "assignee")

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # A search by a name, an address or a phone tells which appeals are that person's:
        # each appeal it shows is logged as found, as opening it would be.
        query = request.GET.get("q", "").strip()
        changelist = getattr(response, "context_data", {}).get("cl")
        if query and changelist is not None and searched_number(query) is None:
            log_access(
                request,
                AccessLog.Action.SEARCH,
                *(appeal.pk for appeal in changelist.result_list),
            )
        return response

    def get_search_results(self, request, queryset, search_term):
        # Staff type what a caller says: «о-2026-2», «2026-000002», «8 (912) 345-67-89».
        if number := searched_number(search_term):
            return queryset.filter(number=number), False
        if phone := searched_phone(search_term):
            # startswith: the same number with an extension («… доб. 12») is that person's too.
            return queryset.filter(phone__startswith=phone), False
        return super().get_search_results(request, queryset, search_term)

    fieldsets = (
        (
            "Обращение",
            {
                "fields": (
                    "number",
                    "created_at",
                    "deadline",
                    "region",
                    "place_name",
                    "topic",
                    "text",
                )
            },
        ),
        ("Заявитель", {"fields": ("name", "email", "phone", "consent_at")}),
        (
            "Работа с обращением",
            {
                "fields": (
                    "status",
                    "assignee",
                    "answer",
                    "answered_at",
                    "closed_at",
                    "opened_at",
                ),
                "description": "Ответ уходит заявителю письмом (если он указал почту) и"
                " появляется на странице обращения, когда вы сохраните его.",
            },
        ),
        (None, {"fields": ("personal_data_removed_at",)}),
    )
    # Everything but the work on the appeal is shown as written, never edited.
    readonly_fields = tuple(
        name
        for _, options in fieldsets
        for name in options["fields"]
        if name not in AppealAdminForm.base_fields
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            kwargs["form_class"] = AssigneeChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        # Annotated before ordering: ModelAdmin.get_queryset orders by get_ordering().
        # By deadline alone, a closed appeal with an early deadline came before open ones: what
        # waits for staff comes first, then answered ones (still to close), closed ones last.
        status = Appeal.Status
        work_order = models.Case(
            models.When(is_overdue=True, then=0),
            models.When(status__in=[status.NEW, status.IN_PROGRESS], then=1),
            models.When(status=status.ANSWERED, then=2),
            default=3,
        )
        return (
            Appeal.objects.with_overdue()
            .alias(work_order=work_order)
            .order_by(*self.get_ordering(request))
        )

    def get_ordering(self, request):
        return ("work_order", "deadline", "pk")

    @admin.display(description="срок ответа", ordering="deadline")
    def deadline_shown(self, appeal):
        date = appeal.deadline.strftime("%d.%m.%Y")
        return f"{date} — просрочено" if appeal.is_overdue else date

    @admin.display(description="где это случилось")
    def place_name(self, appeal):
        return appeal.place_name or "—"

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableChanges(self.model, historical_record)

    def history_view_title(self, request, obj):
        return f"История обращения {obj}"

    def history_form_view_title(self, request, obj):
        return f"Версия обращения {obj} (только просмотр)"

    def has_change_permission(self, request, obj=None):
        # Purged: what is left (number, dates, status) is a record, not work in progress.
        purged = obj is not None and obj.personal_data_removed_at is not None
        return super().has_change_permission(request, obj) and not purged

    def revert_disabled(self, request, obj=None):
        # An old version would bring back an answer already sent or data already purged.
        return True

    def save_model(self, request, obj, form, change):
        # For the access log: saved, whatever the answer (a redirect, or 200 in a popup).
        request.appeal_saved = True
        if "status" in form.changed_data:
            status_changed(obj)
        if "answer" in form.changed_data and obj.answer.strip():
            answer_given(obj)
            if obj.email:
                messages.info(request, f"Ответ на обращение {obj} поставлен в очередь писем.")
        super().save_model(request, obj, form, change)

    def _log(self, request, object_id, action, response):
        # What was saved, or shown (200: Django answers an id that does not exist with a
        # redirect). A POST shown again (errors, a stale form) saved nothing: a view.
        saved = getattr(request, "appeal_saved", False)
        if action == AccessLog.Action.CHANGE and not saved:
            action = AccessLog.Action.VIEW
        if (saved or response.status_code == HTTPStatus.OK) and (pk := read_pk(self, object_id)):
            log_access(request, action, pk)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        return self._log(request, object_id, AccessLog.Action.CHANGE, response)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self._log(request, object_id, AccessLog.Action.HISTORY, response)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # django-simple-history 3.13 hides the revert button (revert_disabled) but still saves
        # an old version posted to this view.
        if request.method == "POST":
            raise PermissionDenied
        response = super().history_form_view(request, object_id, version_id, extra_context)
        return self._log(request, object_id, AccessLog.Action.HISTORY, response)


@admin.register(AccessLog)
class AccessLogAdmin(MembersOnly, OfferedFiltersOnly, admin.ModelAdmin):
    list_display = ("at", "username", "appeal", "action")
    list_filter = ("action", "at")
    search_fields = ("=appeal__number", "username")
    list_select_related = ("appeal",)
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # All of it: an editable «обращение» would list appeals in AppealAdmin's order, which
        # needs its annotation (a FieldError on every entry).
        return [field.name for field in self.model._meta.fields]


class FailureInline(admin.TabularInline):
    model = OutboxFailure
    fields = ("at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxMail)
class OutboxMailAdmin(MembersOnly, OfferedFiltersOnly, admin.ModelAdmin):
    list_display = ("created_at", "kind", "appeal", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "kind")
    search_fields = ("=appeal__number",)
    list_select_related = ("appeal",)
    fields = (
        "appeal",
        "kind",
        "to",
        "subject",
        "body",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    readonly_fields = fields
    inlines = [FailureInline]
    actions = ["send_again"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A mail shows the person's address, and an answer's text or a confirmation's status
        # link: opening it is opening their appeal, and goes into its access log.
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == HTTPStatus.OK and (pk := read_pk(self, object_id)):
            mail = OutboxMail.objects.filter(pk=pk).values("appeal_id").first()
            if mail and mail["appeal_id"]:
                log_access(request, AccessLog.Action.MAIL, mail["appeal_id"])
        return response

    @admin.action(description="Отправить ещё раз при следующем запуске отправки")
    def send_again(self, request, queryset):
        # A sent mail is never sent again: a confirmation's text is gone once sent.
        count = queryset.exclude(status=OutboxMail.Status.SENT).update(
            status=OutboxMail.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(request, f"Писем поставлено в очередь: {count}.")
