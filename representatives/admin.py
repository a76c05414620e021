from django.contrib import admin

from regions.admin import LabelledInlineFormSet, add_region_inline

from .hours import Interval, check_intervals
from .models import ReceptionHours, Representative


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
    extra = 1


@admin.register(Representative)
class RepresentativeAdmin(admin.ModelAdmin):
    list_display = ("role", "person", "region", "level", "phone_list", "order", "is_active")
    list_display_links = ("role",)
    list_editable = ("order", "is_active")
    list_filter = ("level", "region", "is_active")
    list_select_related = ("region",)
    search_fields = ("role", "person", "phones", "email", "address", "code", "region__name")
    autocomplete_fields = ("region",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (ReceptionHoursInline,)
    fieldsets = (
        (None, {"fields": ("region", "level", "code", "role", "person")}),
        ("Как связаться", {"fields": ("phones", "email", "address", "notes")}),
        (None, {"fields": ("order", "is_active", "created_at", "updated_at")}),
    )

    @admin.display(description="телефоны")
    def phone_list(self, representative):
        return ", ".join(phone for phone, _ in representative.phone_links)


class RepresentativeInline(admin.StackedInline):
    model = Representative
    extra = 0
    show_change_link = True  # reception hours are edited on the representative's own page
    fields = (
        ("level", "code", "order", "is_active"),
        ("role", "person"),
        ("phones", "email"),
        "address",
        "notes",
    )


add_region_inline(RepresentativeInline)
