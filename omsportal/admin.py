"""«Журнал действий»: who added, changed or deleted what in admin.

Django writes every admin edit to LogEntry, but shows it only as an object's «История», which
goes with the object: nobody could see who had deleted a contact.
"""

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils.text import capfirst

# Django's own Russian labels the change as «Изменить», a button's word.
ACTIONS = {ADDITION: "Добавление", CHANGE: "Изменение", DELETION: "Удаление"}


class ActionFilter(admin.SimpleListFilter):
    title = "действие"
    parameter_name = "action_flag"

    def lookups(self, request, model_admin):
        return [(str(flag), label) for flag, label in ACTIONS.items()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action_flag=self.value())
        return queryset


def type_name(content_type: ContentType) -> str:
    """«Страховой представитель»: the model's name, as the rest of admin names it."""
    model = content_type.model_class()
    return capfirst(model._meta.verbose_name) if model else content_type.model


class ObjectTypeFilter(admin.RelatedOnlyFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field's own name is «тип содержимого», and each choice «Приложение | модель».
        self.title = "тип объекта"

    def field_choices(self, field, request, model_admin):
        shown = model_admin.get_queryset(request).values_list("content_type", flat=True)
        types = ContentType.objects.filter(pk__in=shown.distinct())
        return sorted(((t.pk, type_name(t)) for t in types), key=lambda choice: choice[1])


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
    """Read only, for superusers and whoever is given «admin.view_logentry»: a journal anyone
    could edit would prove nothing."""

    list_display = ("action_time", "user", "action", "object_type", "object_name")
    list_display_links = ("action_time",)
    list_filter = (
        ActionFilter,
        ("content_type", ObjectTypeFilter),
        ("user", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("object_repr",)
    date_hierarchy = "action_time"
    list_select_related = ("user", "content_type")
    fields = (
        "action_time",
        "user",
        "action",
        "object_type",
        "object_name",
        "object_id",
        "message",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Entries of what this person may not see stay hidden with it: appeals are for the
        # group «Обращения» only, superusers included, and their entries name and describe them.
        hidden = [
            model
            for model, model_admin in self.admin_site._registry.items()
            if model is not LogEntry and not model_admin.has_view_permission(request)
        ]
        queryset = super().get_queryset(request)
        if hidden:
            types = ContentType.objects.get_for_models(*hidden, for_concrete_models=False)
            queryset = queryset.exclude(content_type__in=types.values())
        return queryset

    @admin.display(description="действие", ordering="action_flag")
    def action(self, entry):
        return ACTIONS.get(entry.action_flag, "")

    @admin.display(description="тип объекта", ordering="content_type")
    def object_type(self, entry):
        return type_name(entry.content_type) if entry.content_type_id else ""

    @admin.display(description="объект", ordering="object_repr")
    def object_name(self, entry):
        return entry.object_repr

    @admin.display(description="что изменено")
    def message(self, entry):
        return entry.get_change_message()
