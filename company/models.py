from django.core.exceptions import ValidationError
from django.db import models
from django.utils.formats import date_format

from regions.caching import cached_content
from regions.words import counted

INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


def validate_inn(value: str) -> None:
    """ИНН of a legal entity: ten digits, the last a check digit."""
    if not (len(value) == 10 and value.isdigit()):
        raise ValidationError("ИНН организации — 10 цифр.")
    weighted = zip(value[:9], INN_WEIGHTS, strict=True)
    check = sum(int(digit) * weight for digit, weight in weighted) % 11 % 10
    if check != int(value[-1]):
        raise ValidationError("В ИНН ошибка: не сходится контрольная цифра.")


def validate_ogrn(value: str) -> None:
    """ОГРН: thirteen digits, the last a check digit."""
    if not (len(value) == 13 and value.isdigit()):
        raise ValidationError("ОГРН — 13 цифр.")
    if int(value[:12]) % 11 % 10 != int(value[-1]):
        raise ValidationError("В ОГРН ошибка: не сходится контрольная цифра.")


def days(count: int) -> str:
    """«1 день», «3 дня», «365 дней»."""
    return counted(count, "день", "дня", "дней")


class CompanyQuerySet(models.QuerySet):
    def current(self) -> "Company":
        """The one record, cached until it changes; an empty, unsaved one until staff fill it."""
        saved = cached_content("company", build=lambda: self.filter(pk=Company.PK).first())
        return saved or Company()


class Company(models.Model):
    """«Сведения о компании»: one record. What is empty is not shown on the site."""

    PK = 1

    name = models.CharField(
        "название компании",
        max_length=255,
        blank=True,
        help_text="Без кавычек и формы собственности, например: Пример-Мед. "
        "Стоит в заголовке каждой страницы.",
    )
    legal_form = models.CharField(
        "организационно-правовая форма",
        max_length=100,
        blank=True,
        help_text="Как в уставе, например: акционерное общество.",
    )
    licence_number = models.CharField(
        "номер лицензии", max_length=50, blank=True, help_text="Например: ОС № 0000-00."
    )
    licence_date = models.DateField("дата лицензии", null=True, blank=True)
    inn = models.CharField("ИНН", max_length=10, blank=True, validators=[validate_inn])
    ogrn = models.CharField("ОГРН", max_length=13, blank=True, validators=[validate_ogrn])
    postal_address = models.CharField("почтовый адрес", max_length=500, blank=True)
    email = models.EmailField("электронная почта", blank=True)
    hotline_hours = models.CharField(
        "часы работы горячей линии",
        max_length=200,
        blank=True,
        help_text="Например: круглосуточно; или: пн–пт 9:00–18:00 по московскому времени.",
    )
    disclosure_url = models.URLField(
        "страница раскрытия информации",
        blank=True,
        help_text="Ссылка на страницу компании, где раскрыта информация о страховщике.",
    )
    request_log_days = models.PositiveSmallIntegerField(
        "сколько дней хранятся журналы запросов",
        null=True,
        blank=True,
        help_text="Сколько хранит журналы служба, которая обслуживает сайт. "
        "Пишется в политике конфиденциальности; пусто — срок не называется.",
    )
    updated_at = models.DateTimeField("изменено", auto_now=True)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        verbose_name = "сведения о компании"
        verbose_name_plural = "сведения о компании"

    def __str__(self):
        return "Сведения о компании"

    def save(self, *args, **kwargs):
        self.pk = self.PK
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        """«Акционерное общество «Пример-Мед»», or what of it is filled."""
        if self.name and self.legal_form:
            return f"{self.legal_form[0].upper()}{self.legal_form[1:]} «{self.name}»"
        return self.name

    @property
    def request_log_period(self) -> str:
        return days(self.request_log_days) if self.request_log_days else ""

    @property
    def licence(self) -> str:
        parts = []
        if self.licence_number:
            parts.append(self.licence_number)
        if self.licence_date:
            parts.append(f"от {date_format(self.licence_date, 'j E Y')} г.")
        return " ".join(parts)
