"""Counts in admin's lists in Russian: Django names the count with the plural of the model's
name whatever the number («0 файлы для скачивания», «23 регионы»)."""

from django import template

from regions.words import counted

register = template.Library()

# The forms for 1, 2 and 5 of each model staff see listed (company.company is never listed:
# its list opens the one record).
COUNTED = {
    "admin.logentry": ("действие", "действия", "действий"),
    "auth.group": ("группа", "группы", "групп"),
    "auth.user": ("пользователь", "пользователя", "пользователей"),
    "axes.accessattempt": ("попытка доступа", "попытки доступа", "попыток доступа"),
    "axes.accesslog": ("запись о доступе", "записи о доступе", "записей о доступе"),
    "axes.accessfailurelog": ("ошибка доступа", "ошибки доступа", "ошибок доступа"),
    "regions.region": ("регион", "региона", "регионов"),
    "regions.registryfile": (
        "файл для скачивания",
        "файла для скачивания",
        "файлов для скачивания",
    ),
    "regions.subject": ("субъект РФ", "субъекта РФ", "субъектов РФ"),
    "representatives.representative": (
        "страховой представитель",
        "страховых представителя",
        "страховых представителей",
    ),
    "appeals.appeal": ("обращение", "обращения", "обращений"),
    "appeals.accesslog": ("запись журнала", "записи журнала", "записей журнала"),
    "appeals.outboxmail": ("письмо", "письма", "писем"),
    "legal.legalact": ("нормативный акт", "нормативных акта", "нормативных актов"),
}


@register.simple_tag
def admin_count(count: int, opts) -> str:
    """«0 файлов для скачивания»; a model without its forms here: «Группы: 0», never wrong."""
    forms = COUNTED.get(opts.label_lower)
    if forms is None:
        plural = str(opts.verbose_name_plural)
        return f"{plural[:1].upper()}{plural[1:]}: {count}"
    return counted(count, *forms)
