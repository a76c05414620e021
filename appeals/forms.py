import contextlib
import secrets
import time
from collections import Counter

import phonenumbers
from django import forms
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.html import format_html

from regions.forms import LineBreaksField
from regions.models import Region
from regions.phones import parse_phone

from .mail import ascii_domain
from .models import TEXT_MAX_LENGTH, Appeal
from .subjects import subject_choices

STARTED_SALT = "appeals.form-started"
# A form kept open longer than this is refused as stale (and given a fresh timestamp).
STARTED_MAX_AGE = 24 * 3600


def started_stamp() -> str:
    # With a nonce: two people opening the form at the same moment get different stamps, and
    # the stamp with the text identifies one filled-in form (services.form_key).
    return signing.dumps([time.time(), secrets.token_hex(8)], salt=STARTED_SALT)


def started_at(value: str) -> float:
    """When the form was opened; BadSignature if the stamp was not made here or is too old."""
    loaded = signing.loads(value, salt=STARTED_SALT, max_age=STARTED_MAX_AGE)
    return loaded[0]


def mailbox(email: str) -> str:
    """The mailbox an address reaches, whatever way it is written: ivanova+1@…,
    "ivanova"@…, ivanova@пример.рф and ivanova@xn--e1afmkfd.xn--p1ai are one mailbox, and
    each was a fresh 5 a day of confirmation mails to someone else's address."""
    local, _, domain = email.strip().rpartition("@")
    local = local.strip('"').partition("+")[0].lower()
    with contextlib.suppress(UnicodeError):  # not an IDNA name: compared as written
        domain = domain.encode("idna").decode("ascii")
    domain = domain.lower()
    # The big providers' own aliases: Gmail ignores dots, Yandex takes «-» for «.» and answers
    # at all its domains.
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    elif domain in YANDEX:
        local, domain = local.replace("-", "."), "yandex.ru"
    return f"{local}@{domain}"


GMAIL = {"gmail.com", "googlemail.com"}
YANDEX = {"yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua"}


class AppealForm(forms.Form):
    region = forms.ChoiceField(
        label="Регион, где выдан ваш полис ОМС",
        error_messages={"required": "Выберите регион, где выдан ваш полис ОМС."},
    )
    place = forms.ChoiceField(
        label="Где это случилось",
        help_text="Регион, где вам отказали или где вы лечились, если это другой регион.",
        required=False,
    )
    topic = forms.ChoiceField(
        label="Тема обращения",
        choices=Appeal.Topic.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Выберите тему обращения."},
    )
    # Line breaks as one character, as the browser counts them for the field's maxlength.
    text = LineBreaksField(
        label="Что случилось",
        help_text=f"Когда, где и что произошло, чего вы просите. До {TEXT_MAX_LENGTH} знаков.",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={
            "required": "Напишите, что случилось.",
            "max_length": "Текст длиннее %(limit_value)d знаков (сейчас %(show_value)d).",
        },
    )
    name = forms.CharField(
        label="Как к вам обращаться",
        help_text="Фамилия, имя и отчество или только имя.",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Напишите, как к вам обращаться."},
    )
    email = forms.EmailField(
        label="Электронная почта",
        required=False,
        # The model's (and RFC 5321's) limit: a longer address the form let through failed the
        # model's check after the limits had counted it, a 500 and the text lost.
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Проверьте адрес: он должен быть вида ivanova@example.ru."},
    )
    phone = forms.CharField(
        label="Телефон",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    consent = forms.BooleanField(
        label="Я согласен (согласна) на обработку моих персональных данных, в том числе"
        " сведений о здоровье, чтобы рассмотреть обращение и ответить на него.",
        error_messages={
            "required": "Без согласия на обработку данных мы не можем рассмотреть обращение."
        },
    )
    # A field people never see (hidden by the stylesheet) and robots fill in.
    website = forms.CharField(
        label="Оставьте это поле пустым",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, regions: list[Region], started: str = "", **kwargs):
        """started: for an unbound form, a stamp to keep if valid (the form shown again)."""
        super().__init__(*args, **kwargs)
        self.regions = {region.slug: region for region in regions}
        self.fields["region"].choices = [("", "— выберите регион —")] + [
            (region.slug, region.name) for region in regions
        ]
        # Everyone refused care is sent here, but only the company's own policies can be
        # chosen: whoever has another insurer's is told where their appeal goes instead.
        self.fields["region"].help_text = format_html(
            "В списке — регионы, где полисы выдаёт наша компания. Если вашего региона в нём нет"
            " или полис выдала другая страховая компания, напишите обращение в неё или в ТФОМС"
            ' региона, где вы сейчас. Куда обратиться, покажем на странице <a href="{}">«Я не в'
            " своём регионе»</a>.",
            reverse("journey:form"),
        )
        self.fields["place"].choices = [
            ("", "— тот же регион —"),
            *subject_choices(),
        ]
        # Not cut off by the browser on paste: the person sees how much is over and keeps it.
        self.fields["text"].widget.attrs.pop("maxlength", None)
        if self.is_bound:
            started = self.data.get("started", "")
        self.started = self._valid_started(started)

    def error_summary(self) -> list[tuple[str, str]]:
        """The summary's lines above the form: (the id of what to focus, the words). An error
        two fields share (neither e-mail nor phone) is listed once, in its own words: under
        each field's name it was the same line twice. A message that names its field already
        («Выберите регион, где выдан ваш полис ОМС») is not put after the field's name again."""
        errors = [(field, error) for field in self for error in field.errors]
        counts = Counter(error for _, error in errors)
        lines, listed = [], set()
        for field, error in errors:
            if error in listed:
                continue
            listed.add(error)
            anchor = f"{field.auto_id}_0" if field.name == "topic" else field.auto_id
            named = (
                field.name != "consent"
                and counts[error] == 1
                and str(field.label).lower() not in error.lower()
            )
            lines.append((anchor, f"{field.label}: {error}" if named else error))
        return lines

    @staticmethod
    def _valid_started(value: str) -> str:
        """The submitted timestamp while it is valid, so that correcting a mistake does not
        restart the clock; otherwise a fresh one."""
        try:
            started_at(value)
        except signing.BadSignature:
            return started_stamp()
        return value

    def clean_region(self):
        return self.regions[self.cleaned_data["region"]]

    def clean_email(self):
        value = self.cleaned_data["email"]
        if not value:
            return ""
        domain = value.rpartition("@")[2]
        # Django's validator takes a server's address in brackets: a mail to it goes to
        # whatever machine that is (our own relay's network included), never to a mailbox
        # of a provider.
        if domain.startswith("["):
            raise forms.ValidationError(
                "Проверьте адрес: после «@» должно быть название почтового сервиса, например"
                " ivanova@example.ru, а не цифры в квадратных скобках.",
                code="domain_literal",
            )
        # The validator counts a Cyrillic name by its letters; mail carries it IDNA-encoded,
        # where it may outgrow DNS's limits, and the outbox could never send the confirmation.
        try:
            ascii_domain(value)
        except UnicodeError:
            raise forms.ValidationError(
                "Проверьте часть адреса после «@»: на такой адрес письмо не отправить — она"
                " слишком длинная или в ней есть лишние знаки. Скорее всего, в адресе опечатка.",
                code="domain_not_sendable",
            ) from None
        return value

    def clean_phone(self):
        value = self.cleaned_data["phone"].strip()
        if not value:
            return ""
        try:
            number = parse_phone(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                "Проверьте номер телефона: например, 8 912 345-67-89.", code="invalid_phone"
            ) from None
        formatted = stored_phone(number)
        # Formatting adds spaces and « доб. »: a long extension could outgrow the model's field.
        if len(formatted) > Appeal._meta.get_field("phone").max_length:
            raise forms.ValidationError(
                "Проверьте номер телефона: он слишком длинный.", code="invalid_phone"
            )
        return formatted

    def clean(self):
        cleaned = super().clean()
        contact_errors = "email" in self.errors or "phone" in self.errors
        if not contact_errors and not cleaned.get("email") and not cleaned.get("phone"):
            message = "Укажите электронную почту или телефон, чтобы мы могли ответить."
            self.add_error("email", message)
            self.add_error("phone", message)
        if cleaned.get("website"):
            raise forms.ValidationError(
                "Обращение не отправлено: заполнено поле «Оставьте это поле пустым».",
                code="honeypot",
            )
        try:
            started = started_at(self.data.get("started", ""))
        except signing.BadSignature:
            raise forms.ValidationError(
                "Страница с формой устарела. Проверьте данные и нажмите «Отправить» ещё раз.",
                code="stale",
            ) from None
        if time.time() - started < settings.APPEALS_MIN_FILL_SECONDS:
            raise forms.ValidationError(
                "Форма отправлена слишком быстро. Проверьте данные и нажмите «Отправить» ещё раз.",
                code="too_fast",
            )
        return cleaned

    def contact_keys(self) -> list[str]:
        """What the per-contact rate limit counts: the e-mail and the phone, each as the one
        mailbox or number it reaches, keyed by an HMAC (the keys live in Redis; a plain hash of
        a phone number is undone with a dictionary of numbers)."""
        keys = []
        if email := self.cleaned_data.get("email"):
            keys.append("email:" + mailbox(email))
        if phone := self.cleaned_data.get("phone"):
            # The number without its extension: «доб. 1», «доб. 2» … reach the same phone.
            keys.append(f"phone:{parse_phone(phone).national_number}")
        return [salted_hmac("appeals.contact", key).hexdigest() for key in keys]


def stored_phone(number: phonenumbers.PhoneNumber) -> str:
    """A phone as appeals keep it, «+7 912 345-67-89»: one form whatever the person typed, so
    that staff find it however a caller says it (AppealAdmin.get_search_results)."""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
