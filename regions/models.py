import datetime
import mimetypes
import re
import zoneinfo
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import NamedTuple
from urllib.parse import urlsplit

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, http_date

from .caching import cached_content
from .checks import checked_by_field, checked_on_field
from .phones import phone_tel, validate_phone
from .validators import validate_not_formula, validate_registry_file, validate_with_preposition
from .zones import zone_label


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Неизвестный часовой пояс «%(value)s».", params={"value": value})


@dataclass(frozen=True)
class RegionIndex:
    """All regions at once: there are 23 of them and every public page needs them."""

    regions: list["Region"]
    by_code: dict[str, "Region"] = field(default_factory=dict)
    by_slug: dict[str, "Region"] = field(default_factory=dict)
    by_iso: dict[str, "Region"] = field(default_factory=dict)
    default: "Region | None" = None

    @classmethod
    def build(cls, regions: list["Region"]) -> "RegionIndex":
        default = next((r for r in regions if r.is_default), regions[0] if regions else None)
        return cls(
            regions=regions,
            by_code={r.code: r for r in regions},
            by_slug={r.slug: r for r in regions},
            by_iso={r.iso_code.upper(): r for r in regions},
            default=default,
        )

    @property
    def has_contacts(self) -> bool:
        return any(r.has_tfoms or r.has_health for r in self.regions)

    @property
    def has_health(self) -> bool:
        return any(r.has_health for r in self.regions)

    @property
    def has_phones_or_addresses(self) -> bool:
        """Whether the contacts download holds more than the funds' names and sites: what its
        link may promise."""
        return self.has_health or any(r.tfoms_phone or r.tfoms_address for r in self.regions)

    @property
    def contacts_as_of(self) -> "datetime.date | None":
        """The date the oldest of the regions' known contacts is as of: what a file of all
        of them can honestly say."""
        dates = [r.tfoms_as_of for r in self.regions if r.has_tfoms]
        dates += [r.health_source_date for r in self.regions if r.has_health]
        return min(filter(None, dates), default=None)


class ContentVersion(models.Model):
    """One row: the number everything cached from the content is keyed by (regions.caching)."""

    SINGLETON = 1

    number = models.PositiveBigIntegerField("версия содержания", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "версия содержания"

    def __str__(self):
        return str(self.number)


# The cached_content() parts of the region index: a page that must answer while the database is
# away takes the version it was built under (regions.caching.assume_version_of).
INDEX = ("regions:index",)


class RegionQuerySet(models.QuerySet):
    def index(self) -> RegionIndex:
        """The cached index of all regions; a change to any watched model drops it."""
        return cached_content(*INDEX, build=lambda: RegionIndex.build(list(self.all())))


class ByCodeManager(models.Manager):
    """Rows whose natural key is the federal subject code: fixtures load by it, again and again."""

    def get_by_natural_key(self, code):
        return self.get(code=code)


class RegionManager(ByCodeManager.from_queryset(RegionQuerySet)):
    pass


def source_fields(whose: str, example: str) -> tuple[models.Field, models.Field, models.Field]:
    """Where some contacts come from, a link to it and the date it gives: shown beside them."""
    return (
        models.CharField(
            f"{whose}: источник сведений",
            max_length=255,
            blank=True,
            help_text=example,
            validators=[validate_not_formula],
        ),
        models.URLField(f"{whose}: ссылка на источник", max_length=500, blank=True),
        models.DateField(
            f"{whose}: сведения на дату",
            null=True,
            blank=True,
            help_text="Дата, на которую источник приводит сведения.",
        ),
    )


class Region(models.Model):
    order = models.PositiveSmallIntegerField("порядок в списке", default=0)
    name = models.CharField(
        "название", max_length=100, unique=True, validators=[validate_not_formula]
    )
    code = models.CharField(
        "код субъекта РФ",
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^\d{2}$", "Код субъекта — две цифры, например 77.")],
    )
    okato = models.CharField(
        "код ОКАТО",
        max_length=2,
        validators=[RegexValidator(r"^\d{2}$", "Код ОКАТО региона — две цифры.")],
    )
    iso_code = models.CharField(
        "код ISO 3166-2",
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^RU-[A-Z]{2,3}$", "Код вида RU-MOW.")],
    )
    slug = models.SlugField("адрес страницы (латиницей)", max_length=50, unique=True)
    time_zone = models.CharField(
        "часовой пояс", max_length=40, default="Europe/Moscow", validators=[validate_time_zone]
    )
    name_in = models.CharField(
        "название в предложном падеже",
        max_length=120,
        validators=[validate_not_formula, validate_with_preposition],
        help_text="С предлогом «в» или «во», для фраз вида «… в Пермском крае».",
    )
    name_of = models.CharField(
        "название в родительном падеже",
        max_length=120,
        validators=[validate_not_formula],
        help_text="Для фраз вида «страховые представители Пермского края».",
    )
    is_default = models.BooleanField(
        "регион по умолчанию",
        default=False,
        help_text="Его предлагают посетителю, который ещё не выбрал регион. Только один регион.",
    )

    tfoms_name = models.CharField(
        "ТФОМС: название", max_length=255, blank=True, validators=[validate_not_formula]
    )
    tfoms_phone = models.CharField(
        "ТФОМС: телефон", max_length=40, blank=True, validators=[validate_phone]
    )
    tfoms_site = models.URLField("ТФОМС: сайт", blank=True)
    tfoms_address = models.CharField(
        "ТФОМС: адрес", max_length=255, blank=True, validators=[validate_not_formula]
    )
    # Where the fund's contacts come from, shown to citizens beside them.
    tfoms_source, tfoms_source_url, tfoms_source_date = source_fields(
        "ТФОМС", "Откуда взяты сведения, например: официальный сайт фонда."
    )
    checked_on = checked_on_field("контакты сверены с сайтом фонда")
    checked_by = checked_by_field("кто сверил контакты")

    health_name = models.CharField(
        "орган здравоохранения: название",
        max_length=255,
        blank=True,
        validators=[validate_not_formula],
    )
    health_phone = models.CharField(
        "орган здравоохранения: телефон", max_length=40, blank=True, validators=[validate_phone]
    )
    health_site = models.URLField("орган здравоохранения: сайт", blank=True)
    health_address = models.CharField(
        "орган здравоохранения: адрес",
        max_length=255,
        blank=True,
        validators=[validate_not_formula],
    )
    # No source for these contacts was found (the reference data's README): whoever types them
    # in says where they come from, and citizens are shown it.
    health_source, health_source_url, health_source_date = source_fields(
        "орган здравоохранения", "Откуда взяты контакты, например: официальный сайт министерства."
    )

    hotline_phone = models.CharField(
        "региональная горячая линия",
        max_length=40,
        blank=True,
        validators=[validate_phone],
        help_text="Показывается на странице страховых представителей региона, рядом с единой "
        "горячей линией (она есть всегда).",
    )
    appeals_email = models.EmailField(
        "адрес для уведомлений о новых обращениях",
        blank=True,
        help_text="Сюда приходит уведомление о каждом новом письменном обращении жителя региона"
        " (только номер и тема, без текста и контактов). Если пусто, уведомлений нет.",
    )
    updated_at = models.DateTimeField("изменён", auto_now=True)

    objects = RegionManager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = "регион"
        verbose_name_plural = "регионы"
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_region",
                violation_error_message="Регион по умолчанию может быть только один.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("regions:detail", args=[self.slug])

    def clean(self):
        super().clean()
        if self.is_default:
            current = Region.objects.filter(is_default=True).exclude(pk=self.pk).first()
            if current is not None:
                # The constraint's own message did not say which region holds the mark, and
                # the list of 23 had to be searched for it.
                raise ValidationError(
                    {
                        "is_default": f"Регион по умолчанию может быть только один, сейчас это "
                        f"«{current.name}». Снимите отметку у него, затем отметьте этот регион."
                    }
                )

    def natural_key(self):
        return (self.code,)

    def get_representatives_url(self):
        return reverse("representatives:region", args=[self.slug])

    @property
    def official_name(self) -> str:
        """The subject's name, for a sentence: the list keeps the seed page's «Город Москва», a
        question asks «Ваш регион — город Москва?» (art. 65 of the Constitution)."""
        subject = Subject.objects.index().by_code.get(self.code)
        return subject.name if subject else self.name

    @property
    def tfoms_tel(self) -> str:
        return phone_tel(self.tfoms_phone)

    @property
    def health_tel(self) -> str:
        return phone_tel(self.health_phone)

    @property
    def hotline_tel(self) -> str:
        return phone_tel(self.hotline_phone)

    @property
    def tfoms_site_label(self) -> str:
        return site_label(self.tfoms_site)

    @property
    def health_site_label(self) -> str:
        return site_label(self.health_site)

    @property
    def tfoms_as_of(self) -> datetime.date | None:
        """The date the fund's contacts are known to be right on: staff's check, else the
        date the source gives."""
        return self.checked_on or self.tfoms_source_date

    @property
    def has_tfoms(self) -> bool:
        return any((self.tfoms_name, self.tfoms_phone, self.tfoms_site, self.tfoms_address))

    @property
    def has_health(self) -> bool:
        return any((self.health_name, self.health_phone, self.health_site, self.health_address))

    @property
    def zone_label(self) -> str:
        """«МСК+2 (UTC+5)» for «время местное» notes: the journey's answer names zones so too, and
        people far from home count from Moscow time."""
        return zone_label(self.time_zone)


def site_label(url: str) -> str:
    """The address with an internationalised domain as people write it: «https://www.тфомс09.рф/»,
    not «https://www.xn--09-7lchqdo.xn--p1ai/». Browsers follow either form."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if "xn--" not in host:
        return url
    try:
        readable = host.encode("ascii").decode("idna")
    except UnicodeError:
        return url  # not valid IDNA: shown as written
    return parts._replace(netloc=parts.netloc.replace(host, readable)).geturl()


@dataclass(frozen=True)
class SubjectIndex:
    """All 89 federal subjects, for «где вы сейчас»: a form lists them, an answer names one."""

    subjects: list["Subject"]
    by_code: dict[str, "Subject"] = field(default_factory=dict)
    by_slug: dict[str, "Subject"] = field(default_factory=dict)
    by_iso: dict[str, "Subject"] = field(default_factory=dict)

    @classmethod
    def build(cls, subjects: list["Subject"]) -> "SubjectIndex":
        return cls(
            subjects=sorted(subjects, key=lambda s: s.sort_key),
            by_code={s.code: s for s in subjects},
            by_slug={s.slug: s for s in subjects},
            by_iso={s.iso_code.upper(): s for s in subjects if s.iso_code},
        )


class SubjectQuerySet(models.QuerySet):
    def index(self) -> SubjectIndex:
        return cached_content(
            "regions:subjects", build=lambda: SubjectIndex.build(list(self.all()))
        )


class SubjectManager(ByCodeManager.from_queryset(SubjectQuerySet)):
    pass


# Words that open many official names: a person looks for «Северная Осетия» under С, not Р.
GENERIC_WORDS = re.compile(r"^(?:город|республика)\s+", re.IGNORECASE)


class Subject(models.Model):
    """A federal subject of Russia: where a person may be when they need care.

    Reference data, loaded from fixtures/subjects.json (generated from the shared subjects.csv).
    The 23 regions where the company issues policies are ``Region`` rows; a region and its
    subject share the subject code, the natural key both have. A foreign key would state the
    same fact a second time and would then have to be kept equal to the code.
    """

    code = models.CharField(
        "код субъекта РФ",
        max_length=2,
        unique=True,
        validators=[RegexValidator(r"^\d{2}$", "Код субъекта — две цифры, например 77.")],
    )
    name = models.CharField(
        "название", max_length=100, unique=True, help_text="Официальное, как в ст. 65 Конституции."
    )
    okato = models.CharField(
        "код ОКАТО",
        max_length=5,
        validators=[
            RegexValidator(r"^\d{2}(?:\d{3})?$", "Две цифры или пять (автономные округа).")
        ],
    )
    iso_code = models.CharField(
        "код ISO 3166-2",
        max_length=6,
        blank=True,
        validators=[RegexValidator(r"^RU-[A-Z]{2,3}$", "Код вида RU-MOW.")],
        help_text="Пусто, если в ISO 3166-2 кода нет.",
    )
    slug = models.SlugField("адрес страницы (латиницей)", max_length=50, unique=True)
    time_zone = models.CharField(
        "часовой пояс", max_length=40, validators=[validate_time_zone], help_text="Столицы."
    )
    name_in = models.CharField(
        "название в предложном падеже", max_length=120, validators=[validate_with_preposition]
    )
    name_of = models.CharField("название в родительном падеже", max_length=120)
    federal_district = models.CharField("федеральный округ", max_length=40, blank=True)

    objects = SubjectManager()

    class Meta:
        ordering = ["code"]
        verbose_name = "субъект РФ"
        verbose_name_plural = "субъекты РФ"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)

    @property
    def sort_key(self) -> str:
        return GENERIC_WORDS.sub("", self.name).casefold()


class RegistryFileQuerySet(models.QuerySet):
    def for_region(self, region: Region | None):
        """Files for all Russia and, when given, for this one region."""
        scope = models.Q(region__isnull=True)
        if region is not None:
            scope |= models.Q(region=region)
        return self.filter(scope).select_related("region")

    def cached_for_region(self, region: Region | None) -> list["RegistryFile"]:
        """``for_region`` kept in the cache, keyed by the region, until the content changes."""
        return cached_content(
            "registry-files",
            region.code if region is not None else "all-russia",
            build=lambda: list(self.for_region(region)),
        )

    def cached_download(self, pk: int) -> "Download | None":
        """What downloading this file sends, without a query while the content stays the same."""

        def build():
            registry_file = self.filter(pk=pk).first()
            return registry_file.download() if registry_file and registry_file.file else None

        return cached_content("registry-download", pk, build=build, keep_none=False)


class Download(NamedTuple):
    """A registry file's download, worked out once per content version: a request only opens the
    file. Plain values, so the per-process cache copies it cheaply (no model to unpickle)."""

    name: str  # in the file field's storage
    filename: str  # what the visitor's browser saves it as
    content_type: str
    etag: str
    last_modified: int  # seconds since the epoch
    last_modified_http: str
    disposition: str  # Content-Disposition
    content: bytes | None  # the whole file, for a small one (SMALL_DOWNLOAD)


# A download kept whole in each process's memory weighs no more than a page (the content cache's
# bound, omsportal/settings.py, holds for it too).
SMALL_DOWNLOAD = 30 * 1024

# File systems allow 255 bytes a name, and a Cyrillic letter takes two: the long titles staff
# give registry files («Реестр медицинских организаций, осуществляющих …») did not fit. Room is
# left for the «_» and 7 characters Django adds to make a name unique. Citizens never see the
# stored name: a download is named after its title.
MAX_STORED_NAME_BYTES = 200


def registry_upload_to(instance, filename):
    name = PurePosixPath(PurePosixPath(filename).name)
    room = MAX_STORED_NAME_BYTES - len(name.suffix.encode())
    stem = name.stem.encode()[:room].decode(errors="ignore")
    return f"registry/{timezone.now():%Y/%m}/{stem}{name.suffix}"


class RegistryFile(models.Model):
    class Kind(models.TextChoices):
        BASE_PROGRAMME = "programme", "Базовая программа ОМС"
        MEDICAL_ORGS = "registry", "Реестр медицинских организаций"
        CONTACTS = "contacts", "Контакты ТФОМС и органов здравоохранения"
        OTHER = "other", "Другое"

    title = models.CharField("название", max_length=255)
    kind = models.CharField("вид", max_length=20, choices=Kind.choices, default=Kind.OTHER)
    region = models.ForeignKey(
        Region,
        verbose_name="регион",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="registry_files",
        help_text="Пусто — файл для всей России.",
    )
    file = models.FileField(
        "файл",
        upload_to=registry_upload_to,
        max_length=255,
        validators=[validate_registry_file],
    )
    size = models.PositiveBigIntegerField("размер, байт", default=0, editable=False)
    published_on = models.DateField("дата публикации", default=timezone.localdate)
    updated_at = models.DateTimeField("изменён", auto_now=True)

    objects = RegistryFileQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-published_on", "title"]
        verbose_name = "файл для скачивания"
        verbose_name_plural = "файлы для скачивания"

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.file:
            try:
                self.size = self.file.size
            except (OSError, ValueError):
                self.size = 0
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("regions:download", args=[self.pk])

    def download(self) -> Download:
        # A new upload or a new title changes updated_at: browsers revalidate and get 304 till then.
        changed = self.updated_at.timestamp()
        filename = self.download_name
        return Download(
            name=self.file.name,
            filename=filename,
            content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            etag=f'"{self.pk}-{changed:.6f}-{self.size}"',
            last_modified=int(changed),
            last_modified_http=http_date(int(changed)),
            # Worked out once, not per request (a Cyrillic title is percent-encoded byte by
            # byte); the same as FileResponse writes for a bigger file (views.attachment).
            disposition=content_disposition_header(True, filename),
            content=self._small_content(),
        )

    def _small_content(self) -> bytes | None:
        """The file's bytes if it weighs no more than a page: sent from memory as pages are, with
        no file opened per request. A bigger file is streamed with sendfile."""
        if self.size > SMALL_DOWNLOAD:
            return None
        try:
            with self.file.storage.open(self.file.name, "rb") as handle:
                content = handle.read(SMALL_DOWNLOAD + 1)
        except (OSError, SuspiciousFileOperation):
            return None  # missing: the request's own open says 404
        # The size noted at upload may be stale: the bytes decide.
        return content if len(content) <= SMALL_DOWNLOAD else None

    @property
    def extension(self) -> str:
        return PurePosixPath(self.file.name).suffix.lower().lstrip(".")

    @property
    def format_label(self) -> str:
        return self.extension.upper()

    @property
    def download_name(self) -> str:
        # A slash would make the browser keep only what follows it («2026/2027» → «2027»).
        title = self.title.replace("/", "-").replace("\\", "-")
        return f"{title}.{self.extension}" if self.extension else title
