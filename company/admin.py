from django import forms
from django.contrib import admin
from django.db import models
from django.shortcuts import redirect
from django.urls import reverse

from regions.admin_history import ValuesInHistory
from regions.forms import not_in_future

from .models import Company

# Straight and typographic double quotes, and the «ёлочки» the site itself puts around the name.
QUOTES = set('"«»„“”')


class CompanyAdminForm(forms.ModelForm):
    def clean_name(self):
        # The footer prints «Акционерное общество «name»»: a name typed as the charter prints
        # it, in quotes or after «АО», came out in doubled quotes on every page.
        name = self.cleaned_data.get("name", "")
        if QUOTES & set(name):
            raise forms.ValidationError(
                "Название пишите без кавычек и без формы собственности, например: Пример-Мед. "
                "Кавычки сайт ставит сам, форма собственности — в поле ниже."
            )
        return name

    def clean_licence_date(self):
        # 01.01.2030 was printed in every footer as «Лицензия от 1 января 2030 г.».
        return not_in_future(self.cleaned_data.get("licence_date"), "Дата лицензии")


@admin.register(Company)
class CompanyAdmin(ValuesInHistory, admin.ModelAdmin):
    """One record: the list opens it straight away; it cannot be added twice or deleted."""

    form = CompanyAdminForm
    readonly_fields = ("updated_at",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (
            None,
            {
                "fields": ("name", "legal_form"),
                "description": "Всё, что заполнено, показывается внизу каждой страницы; "
                "пустые поля не показываются. Вносите только сведения из документов компании.",
            },
        ),
        ("Лицензия и реквизиты", {"fields": ("licence_number", "licence_date", "inn", "ogrn")}),
        ("Связь", {"fields": ("postal_address", "email", "hotline_hours", "disclosure_url")}),
        ("Политика конфиденциальности", {"fields": ("request_log_days",)}),
        (None, {"fields": ("updated_at",)}),
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Company.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if Company.objects.exists():
            return redirect(reverse("admin:company_company_change", args=[Company.PK]))
        return redirect(reverse("admin:company_company_add"))
