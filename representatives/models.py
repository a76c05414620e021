import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst

from regions.models import Region
from regions.phones import phone_tel, validate_phone
from regions.validators import validate_not_formula

from .hours import DayGroup, Interval, check_intervals, group_days

PHONE_SEPARATORS = re.compile(r"[;\n]")
# The fields a citizen can reach a contact by: a contact needs one of them.
CHANNELS = ("phones", "email", "address")


def split_phones(value: str) -> list[str]:
    """Numbers one per line (or separated by «;»); commas stay, «доб. 12» may follow one."""
    return [phone.strip() for phone in PHONE_SEPARATORS.split(value or "") if phone.strip()]


def validate_phones(value: str) -> None:
    for phone in split_phones(value):
        validate_phone(phone)


# The sample spreadsheet (fixtures/representatives-sample.csv) marks its fictitious values.
SAMPLE_MARK = "ОБРАЗЕЦ"


def validate_not_sample(value: str) -> None:
    """The import refuses any cell carrying the sample's mark, and admin the same values: else
    a sample value typed or pasted in admin would reach the site, and the next export of the
    contacts would no longer import."""
    if SAMPLE_MARK in value.upper():
        raise ValidationError(
            f"«{SAMPLE_MARK}» — это данные из файла-образца, а не настоящий контакт.",
            code="sample",
        )


class Level(models.IntegerChoices):
    # Named in words, as the representatives page's headings («Первый уровень: …») name them:
    # the journey shows these labels beside those pages' links.
    CONTACT_CENTRE = 1, "Первый уровень — контакт-центр, ответы на вопросы"
    # legal.md: informing and accompanying (prophylaxis, диспансеризация, appeals); «while
    # you are treated» is not backed.
    ACCOMPANIMENT = 2, "Второй уровень — информирование и сопровождение, профилактика, обращения"
    EXPERT = 3, "Третий уровень — жалобы, экспертиза, защита прав"


class Weekday(models.IntegerChoices):
    MONDAY = 1, "понедельник"
    TUESDAY = 2, "вторник"
    WEDNESDAY = 3, "среда"
    THURSDAY = 4, "четверг"
    FRIDAY = 5, "пятница"
    SATURDAY = 6, "суббота"
    SUNDAY = 7, "воскресенье"


class RepresentativeQuerySet(models.QuerySet):
    def for_region(self, region: Region):
        """The region's published contacts with their hours: two queries, however many."""
        return (
            self.filter(region=region, is_active=True)
            .prefetch_related("hours")
            .order_by("level", "order", "pk")
        )

    def by_level(self, region: Region) -> dict[int, list["Representative"]]:
        """``for_region`` grouped by level; every level present, empty when it has no one.

        A contact with no way to reach it (saved before validation required one, or by a bulk
        write) is left out: shown, it would be a role and a name only, and its level would not
        offer the hotline as a level without contacts does."""
        levels: dict[int, list[Representative]] = {level: [] for level in Level}
        for representative in self.for_region(region):
            if representative.is_reachable:
                levels[representative.level].append(representative)
        return levels


def hotline_listed(levels: dict[int, list["Representative"]]) -> bool:
    """Whether a level-1 contact (as in the shipped fixtures) already lists the federal hotline:
    pages then show no card of its own for it."""
    return any(r.lists_phone(settings.HOTLINE_TEL) for r in levels[Level.CONTACT_CENTRE])


class RepresentativeManager(models.Manager.from_queryset(RepresentativeQuerySet)):
    def get_by_natural_key(self, code, region_code):
        return self.get(code=code, region__code=region_code)


class Representative(models.Model):
    region = models.ForeignKey(
        Region,
        verbose_name="регион",
        on_delete=models.CASCADE,
        related_name="representatives",
    )
    # The import matches rows to contacts by (region, code): a role or an address can change
    # without the contact being removed and created again.
    code = models.SlugField(
        "код контакта",
        max_length=50,
        help_text="Латиницей, уникален в регионе, например perm-office-1. "
        "По нему загрузка таблицы узнаёт контакт.",
    )
    level = models.PositiveSmallIntegerField("уровень", choices=Level.choices)
    role = models.CharField("должность или роль", max_length=255, validators=[validate_not_formula])
    person = models.CharField(
        "ФИО",
        max_length=255,
        blank=True,
        validators=[validate_not_formula],
        help_text="Только если человек согласился.",
    )
    phones = models.TextField(
        "телефоны",
        blank=True,
        validators=[validate_phones],
        help_text="По одному номеру в строке, в виде 8 (XXX) XXX-XX-XX или 8 (XXXX) XX-XX-XX.",
    )
    email = models.EmailField("электронная почта", blank=True)
    address = models.CharField(
        "адрес офиса", max_length=255, blank=True, validators=[validate_not_formula]
    )
    notes = models.TextField("примечание", blank=True)
    order = models.PositiveSmallIntegerField("порядок", default=0)
    is_active = models.BooleanField(
        "показывать на сайте", default=True, help_text="Снимите, чтобы скрыть, не удаляя."
    )
    created_at = models.DateTimeField("создан", auto_now_add=True)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    objects = RepresentativeManager()

    class Meta:
        ordering = ["region__order", "level", "order", "pk"]
        verbose_name = "страховой представитель"
        verbose_name_plural = "страховые представители"
        constraints = [
            models.UniqueConstraint(
                fields=["region", "code"],
                name="representative_code_unique_in_region",
                violation_error_message="В этом регионе уже есть контакт с таким кодом.",
            ),
        ]

    def __str__(self):
        return f"{self.role} ({self.person})" if self.person else self.role

    def natural_key(self):
        return (self.code, *self.region.natural_key())

    natural_key.dependencies = ["regions.region"]

    @property
    def is_reachable(self) -> bool:
        return any(
            (split_phones(self.phones), (self.email or "").strip(), (self.address or "").strip())
        )

    def clean_fields(self, exclude=None):
        # Here rather than in clean(), which cannot tell which fields a form edits: the list's
        # «порядок»/«показывать» would refuse to save a page for a contact saved without a
        # channel before this check existed, and not let staff hide it. With a channel field
        # excluded (not on the form, or refused already) there is nothing to add.
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.error_dict
        if not set(CHANNELS) & set(exclude or ()) and not self.is_reachable:
            names = [f"«{capfirst(self._meta.get_field(name).verbose_name)}»" for name in CHANNELS]
            message = (
                f"Заполните хотя бы одно из полей {', '.join(names[:-1])} или {names[-1]}, "
                "иначе гражданину не связаться с этим контактом."
            )
            errors.setdefault("phones", []).append(ValidationError(message, code="no_channel"))
        if errors:
            raise ValidationError(errors)

    def clean(self):
        self.phones = "\n".join(split_phones(self.phones))

    @property
    def phone_links(self) -> list[tuple[str, str]]:
        """(as written, tel: target) pairs; the target is empty if a number cannot be dialled."""
        return [(phone, phone_tel(phone)) for phone in split_phones(self.phones)]

    @property
    def intervals(self) -> list[Interval]:
        # .all() so that a prefetch from for_region() is used.
        return sorted(Interval(h.weekday, h.opens, h.closes) for h in self.hours.all())

    @property
    def hour_groups(self) -> list[DayGroup]:
        return group_days(self.intervals)

    def lists_phone(self, tel: str) -> bool:
        """Whether one of the numbers is tel, with or without an extension (phone_tel puts it
        after a comma): «8 (800) 333-60-03 доб. 2» shows the hotline's number too."""
        return any(target.partition(",")[0] == tel for _, target in self.phone_links)


class ReceptionHours(models.Model):
    representative = models.ForeignKey(
        Representative,
        verbose_name="представитель",
        on_delete=models.CASCADE,
        related_name="hours",
    )
    weekday = models.PositiveSmallIntegerField("день недели", choices=Weekday.choices)
    opens = models.TimeField("начало приёма")
    closes = models.TimeField("конец приёма")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = "часы приёма"
        verbose_name_plural = "часы приёма (время местное)"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes__gt=models.F("opens")),
                name="reception_hours_close_after_open",
                violation_error_message="Конец приёма должен быть позже начала.",
            ),
            models.UniqueConstraint(
                fields=["representative", "weekday", "opens"],
                name="reception_hours_unique_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None:
            try:
                check_intervals([Interval(self.weekday, self.opens, self.closes)])
            except ValidationError as error:
                raise ValidationError({"closes": error}) from None
