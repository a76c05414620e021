import datetime
from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.formats import date_format

from regions.caching import cached_content
from regions.checks import checked_by_field, checked_on_field

# Staff's one task for an act past its term: admin's list and start page say it.
EXPIRED_ADVICE = "срок действия истёк — внесите действующий акт"


@dataclass(frozen=True)
class KindForms:
    nominative: str
    genitive: str
    instrumental: str


class LegalActQuerySet(models.QuerySet):
    def index(self) -> dict[str, "LegalAct"]:
        """Every act with its provisions by slug, cached until a row changes (a few rows)."""
        return cached_content(
            "legal-acts",
            build=lambda: {act.slug: act for act in self.prefetch_related("provisions")},
        )

    def checked_on(self, *slugs: str) -> datetime.date | None:
        """The oldest check of these acts; None if one of them is unchecked, missing or past
        its term (a check of last year's programme says nothing of this year's)."""
        index = self.index()
        acts = [index.get(slug) for slug in slugs]
        if not acts or any(act is None or act.checked_on is None or act.expired for act in acts):
            return None
        return min(act.checked_on for act in acts)

    def expired(self, *slugs: str) -> list["LegalAct"]:
        """Those of these acts past their term, in the order given."""
        index = self.index()
        return [index[slug] for slug in slugs if slug in index and index[slug].expired]


class LegalActManager(models.Manager.from_queryset(LegalActQuerySet)):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class LegalAct(models.Model):
    class Kind(models.TextChoices):
        FEDERAL_LAW = "federal-law", "Федеральный закон"
        MINZDRAV_ORDER = "minzdrav-order", "Приказ Минздрава России"
        GOVERNMENT_DECREE = "government-decree", "Постановление Правительства РФ"

    slug = models.SlugField(
        "код",
        max_length=50,
        unique=True,
        help_text="Латиницей. По нему страницы сайта ссылаются на акт: не меняйте его.",
    )
    kind = models.CharField("вид акта", max_length=30, choices=Kind.choices)
    signed_on = models.DateField(
        "дата акта", null=True, blank=True, help_text="Пусто, пока дата не сверена с текстом."
    )
    number = models.CharField(
        "номер", max_length=30, blank=True, help_text="Например, 000-ФЗ. Пусто, пока не известен."
    )
    title = models.CharField(
        "название акта",
        max_length=500,
        blank=True,
        help_text="Без кавычек, как в официальной публикации.",
    )
    document = models.CharField(
        "утверждённый документ",
        max_length=500,
        blank=True,
        help_text="Если акт утверждает документ (правила, программу), его название: "
        "на сайте он называется по документу.",
    )
    document_genitive = models.CharField(
        "утверждённый документ в родительном падеже",
        max_length=500,
        blank=True,
        help_text="Для ссылок вида «п. 1 Правил …».",
    )
    url = models.URLField(
        "ссылка на официальный текст",
        max_length=500,
        blank=True,
        help_text="Только ссылка, которую вы открыли и где увидели сам акт. "
        "Пока её нет, сайт называет акт полностью, чтобы его можно было найти.",
    )
    in_force_from = models.DateField("действует с", null=True, blank=True)
    in_force_until = models.DateField(
        "действует по",
        null=True,
        blank=True,
        help_text="Только для актов на срок, например программы госгарантий на год: последний "
        "день, когда акт действует. На следующий день сайт предупредит читателей, что ссылка "
        "может быть устаревшей, а здесь появится просьба внести действующий акт. "
        "Для бессрочных актов оставьте пустым.",
    )
    checked_on = checked_on_field("проверено")
    checked_by = checked_by_field("кто проверил")
    order = models.PositiveSmallIntegerField("порядок", default=0)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    objects = LegalActManager()

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = "нормативный акт"
        verbose_name_plural = "нормативные акты"

    def __str__(self):
        return self.full_name

    def natural_key(self):
        return (self.slug,)

    @property
    def expired(self) -> bool:
        """Past its term: read on each use, since a term ends by the clock, not by an edit."""
        return self.in_force_until is not None and self.in_force_until < timezone.localdate()

    def missing_for_citation(self) -> list[str]:
        """What a citation names the act by and this row lacks, in the genitive («даты»,
        «номера»): without a link the act is named in full so that anyone can find it, and a
        check of an act without its date or number vouched for a citation nobody could find."""
        missing = []
        if not self.signed_on:
            missing.append("даты")
        if not self.number:
            missing.append("номера")
        if not (self.title or self.document):
            missing.append("названия")
        return missing

    def why_not_findable(self) -> str:
        """Why a page citing the act as it stands would name it so that nobody could look it
        up; empty when it would not. A title, or the document the act approves, is enough:
        legal.md knows neither the number nor the date of the Rules' order, and the site
        names them by the Rules and the day they came into force. Without a name it takes
        the date and the number: «Федерального закона.» alone was printed as a basis."""
        if self.title or self.document or (self.signed_on and self.number):
            return ""
        missing = ["названия"]
        if not self.signed_on:
            missing.append("даты")
        if not self.number:
            missing.append("номера")
        what = ", ".join(missing[:-1]) + " и " + missing[-1]
        return (
            f"Страницы сайта ссылаются на этот акт, а по тому, что здесь записано, его не "
            f"найти: нет {what} акта. Впишите из официального текста название акта (или "
            "документа, который он утверждает) либо дату и номер акта."
        )

    def why_not_checkable(self) -> str:
        """Why «сверено» cannot be marked on the act as it stands; empty when it can."""
        missing = self.missing_for_citation()
        if not missing:
            return ""
        what = " и ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        return (
            f"«{self.full_name}» нельзя отметить сверенным: нет {what} акта. Впишите "
            "недостающее из официального текста акта, затем отметьте «сверено»."
        )

    @property
    def kind_forms(self) -> KindForms:
        return KIND_FORMS.get(self.kind, KindForms(self.get_kind_display(), "", ""))

    @property
    def _act_details(self) -> str:
        """«от 29.11.2010 № 326-ФЗ «…»»: what is known, in the order the act is cited."""
        parts = []
        if self.signed_on:
            parts.append(f"от {self.signed_on:%d.%m.%Y}")
        if self.number:
            parts.append(f"№ {self.number}")
        if self.title:
            parts.append(f"«{self.title}»")
        return " ".join(parts)

    def _name(self, case: str) -> str:
        details = self._act_details
        if self.document:
            document = (case == "genitive" and self.document_genitive) or self.document
            name = f"{document}, утв. {self.kind_forms.instrumental}"
        else:
            kind = getattr(self.kind_forms, case) or self.get_kind_display()
            name = kind[0].upper() + kind[1:]
        name = f"{name} {details}" if details else name
        if self.in_force_from:
            start = date_format(self.in_force_from, "j E Y")
            # Read on each use, as «expired»: an act not yet in force was cited as «в силе с»
            # a date to come, as if it were the law today.
            if self.in_force_from > timezone.localdate():
                name += f" (вступает в силу {start} г.)"
            else:
                name += f" (в силе с {start} г.)"
        return name

    @property
    def full_name(self) -> str:
        return self._name("nominative")

    @property
    def full_name_genitive(self) -> str:
        return self._name("genitive")


KIND_FORMS = {
    LegalAct.Kind.FEDERAL_LAW: KindForms(
        "федеральный закон", "федерального закона", "федеральным законом"
    ),
    LegalAct.Kind.MINZDRAV_ORDER: KindForms(
        "приказ Минздрава России", "приказа Минздрава России", "приказом Минздрава России"
    ),
    LegalAct.Kind.GOVERNMENT_DECREE: KindForms(
        "постановление Правительства Российской Федерации",
        "постановления Правительства Российской Федерации",
        "постановлением Правительства Российской Федерации",
    ),
}


class LegalProvisionManager(models.Manager):
    def get_by_natural_key(self, slug, act_slug):
        return self.get(slug=slug, act__slug=act_slug)


class LegalProvision(models.Model):
    act = models.ForeignKey(
        LegalAct, verbose_name="акт", on_delete=models.CASCADE, related_name="provisions"
    )
    slug = models.SlugField(
        "код",
        max_length=50,
        help_text="Латиницей, уникален в акте. По нему страницы ссылаются на положение.",
    )
    text = models.CharField("положение", max_length=100, help_text="Например, «п. 1 ч. 1 ст. 16».")
    summary = models.TextField("о чём", blank=True, help_text="Для сотрудников: что оно говорит.")
    order = models.PositiveSmallIntegerField("порядок", default=0)

    objects = LegalProvisionManager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = "положение акта"
        verbose_name_plural = "положения, на которые ссылается сайт"
        constraints = [
            models.UniqueConstraint(
                fields=["act", "slug"],
                name="legal_provision_slug_unique_in_act",
                violation_error_message="У этого акта уже есть положение с таким кодом.",
            ),
        ]

    def __str__(self):
        return self.text

    def natural_key(self):
        return (self.slug, *self.act.natural_key())

    natural_key.dependencies = ["legal.legalact"]
