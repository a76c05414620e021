import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .subjects import subject_name, validate_subject_code

TEXT_MAX_LENGTH = 5000
GROUP_NAME = "Обращения"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A status token of 256 random bits, and the hash that is all the database keeps of it
    once the confirmation mail that carries it has gone (appeals.outbox)."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


class AppealQuerySet(models.QuerySet):
    def with_overdue(self, today=None):
        """Marks appeals still unanswered after their deadline (`is_overdue`)."""
        today = today or timezone.localdate()
        unanswered = ~models.Q(status__in=[Appeal.Status.ANSWERED, Appeal.Status.CLOSED])
        return self.annotate(
            is_overdue=models.Case(
                models.When(unanswered & models.Q(deadline__lt=today), then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            )
        )

    def by_token(self, token: str) -> "Appeal | None":
        if not token or len(token) > 100:
            return None
        digest = hash_token(token)
        # By a hash the visitor cannot steer: the lookup leaks nothing about stored tokens.
        return self.filter(token_hash=digest).select_related("region").first()

    def purgeable(self, *, days: int, now=None):
        cutoff = (now or timezone.now()) - timedelta(days=days)
        return self.filter(
            status=Appeal.Status.CLOSED, closed_at__lt=cutoff, personal_data_removed_at=None
        )


class Appeal(models.Model):
    class Topic(models.TextChoices):
        REFUSED = "refused", "Отказали в медицинской помощи"
        QUALITY = "quality", "Качество медицинской помощи"
        POLICY = "policy", "Полис ОМС и прикрепление к поликлинике"
        CHECKUP = "checkup", "Диспансеризация и профилактические осмотры"
        OTHER = "other", "Другое"

    class Status(models.TextChoices):
        NEW = "new", "новое"
        IN_PROGRESS = "in_progress", "в работе"
        ANSWERED = "answered", "дан ответ"
        CLOSED = "closed", "закрыто"

    # Set in the transaction that inserts the row, from its primary key (a database sequence
    # on PostgreSQL, AUTOINCREMENT on SQLite: never reused, whichever instance inserts).
    # NULL, not "", until then: unique allows many NULLs while inserts run at once.
    number = models.CharField(  # noqa: DJ001
        "номер", max_length=20, unique=True, null=True, editable=False
    )
    created_at = models.DateTimeField("поступило", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("изменено", auto_now=True)
    deadline = models.DateField("срок ответа", db_index=True)

    region = models.ForeignKey(
        "regions.Region",
        verbose_name="регион полиса",
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    # The subject's code (two digits); see appeals/subjects.py.
    place_code = models.CharField(
        "где это случилось", max_length=2, blank=True, validators=[validate_subject_code]
    )
    topic = models.CharField("тема", max_length=20, choices=Topic.choices)
    text = models.TextField(
        "текст обращения", validators=[MaxLengthValidator(TEXT_MAX_LENGTH)], blank=True
    )
    name = models.CharField("имя", max_length=200, blank=True)
    email = models.EmailField("электронная почта", blank=True)
    phone = models.CharField("телефон", max_length=40, blank=True)
    consent_at = models.DateTimeField("согласие на обработку данных дано", null=True)

    status = models.CharField(
        "статус", max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="ответственный",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answer = models.TextField("ответ", blank=True)
    answered_at = models.DateTimeField("ответ дан", null=True, blank=True)
    closed_at = models.DateTimeField("закрыто", null=True, blank=True)
    personal_data_removed_at = models.DateTimeField(
        "персональные данные удалены", null=True, blank=True
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # One appeal per content: «Отправить» pressed twice (a slow network, no JavaScript), or
    # Back and again, finds the first (appeals.services.form_key).
    # NULL, not "", where there is none: unique, as Django's docs advise for optional keys.
    form_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    history = HistoricalRecords(
        verbose_name="история обращения",
        excluded_fields=["token_hash", "form_key", "updated_at"],
    )

    objects = AppealQuerySet.as_manager()

    # Cleared by purge_appeals; number, dates, region, topic and status stay for statistics.
    PERSONAL_FIELDS = ("place_code", "text", "name", "email", "phone", "answer")

    class Meta:
        verbose_name = "обращение"
        verbose_name_plural = "обращения"
        ordering = ["deadline", "pk"]

    def __str__(self):
        return self.number or "обращение (без номера)"

    @property
    def place_name(self) -> str:
        return subject_name(self.place_code)

    @property
    def is_answered(self) -> bool:
        return bool(self.answer) and self.status in {self.Status.ANSWERED, self.Status.CLOSED}


class AccessLog(models.Model):
    """Who opened which appeal in admin, and when."""

    class Action(models.TextChoices):
        VIEW = "view", "просмотр"
        CHANGE = "change", "изменение"
        HISTORY = "history", "история изменений"
        MAIL = "mail", "письмо по обращению"
        SEARCH = "search", "найдено поиском"

    appeal = models.ForeignKey(
        Appeal, verbose_name="обращение", on_delete=models.CASCADE, related_name="access_log"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="сотрудник",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # Kept when the user account is removed.
    username = models.CharField("имя пользователя", max_length=150)
    action = models.CharField("действие", max_length=10, choices=Action.choices)
    at = models.DateTimeField("когда", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "доступ к обращению"
        verbose_name_plural = "журнал доступа к обращениям"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.username}: {self.appeal} ({self.get_action_display()})"


class OutboxMail(models.Model):
    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "подтверждение заявителю"
        ANSWER = "answer", "ответ заявителю"
        NOTIFICATION = "notification", "уведомление представителям"

    class Status(models.TextChoices):
        PENDING = "pending", "ждёт отправки"
        SENT = "sent", "отправлено"
        FAILED = "failed", "не отправлено (попытки исчерпаны)"

    appeal = models.ForeignKey(
        Appeal,
        verbose_name="обращение",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mails",
    )
    kind = models.CharField("вид", max_length=20, choices=Kind.choices)
    to = models.EmailField("кому")
    subject = models.CharField("тема", max_length=255)
    body = models.TextField("текст")
    status = models.CharField(
        "состояние", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField("создано", default=timezone.now)
    next_attempt_at = models.DateTimeField("следующая попытка", default=timezone.now)
    attempts = models.PositiveIntegerField("попыток", default=0)
    sent_at = models.DateTimeField("отправлено", null=True, blank=True)
    last_error = models.TextField("последняя ошибка", blank=True)

    class Meta:
        verbose_name = "письмо"
        verbose_name_plural = "исходящие письма"
        ordering = ["next_attempt_at", "pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject}"


class OutboxFailure(models.Model):
    mail = models.ForeignKey(
        OutboxMail, verbose_name="письмо", on_delete=models.CASCADE, related_name="failures"
    )
    at = models.DateTimeField("когда", default=timezone.now)
    error = models.TextField("ошибка")

    class Meta:
        verbose_name = "неудачная попытка отправки"
        verbose_name_plural = "неудачные попытки отправки"
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.at:%d.%m.%Y %H:%M}: {self.error[:80]}"
