"""Written appeals: the form, the confirmation and status pages, abuse, what reaches the logs."""

import hashlib
import json
import re
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter

from appeals.forms import AppealForm
from appeals.models import Appeal, OutboxMail
from appeals.services import REPEAT_WINDOW, AlreadyReceived, form_key
from appeals.views import wait_words
from company.models import Company
from regions.models import Region
from tests.support import (
    REFUSED_STEPS,
    InBackground,
    assert_in_order,
    clear_caches,
    held_open,
    wait_until_a_query_waits_on_a_lock,
)

from .appeals_support import EMAIL, NAME, PHONE, TEXT, form_data, make_appeal, started
from .test_logs import json_log  # noqa: F401  (the production log handler, as a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("subjects")]

FORM = "/obrashchenie/"
NUMBER = re.compile(r"^О-\d{4}-\d{6}$")


def test_links_in_mails_use_the_site_address_not_the_host_header(client, regions, settings):
    client.post(FORM, form_data(), HTTP_HOST="localhost:8123")  # allowed, yet not the site
    body = OutboxMail.objects.get().body
    assert "localhost" not in body
    assert f"{settings.SITE_URL}/obrashchenie/status/?t=" in body


def submit(client, **overrides):
    return client.post(FORM, form_data(**overrides))


def test_the_form_is_private_carries_a_csrf_token_and_is_linked(client, regions):
    response = client.get(FORM)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    assert "Регион, где выдан ваш полис ОМС" in page
    assert "сведения о здоровье" in page and reverse("privacy") in page
    assert 'action="/obrashchenie/"' in page
    assert reverse("appeals:new") == FORM
    assert f'href="{FORM}"' in client.get("/").content.decode()  # the footer
    representatives = client.get("/regions/tomsk-oblast/representatives/").content.decode()
    assert f'href="{FORM}?region=tomsk-oblast"' in representatives


def test_the_form_says_what_to_do_first_if_refused(client, regions):
    lead = client.get(FORM).content.decode().split('<p class="lead">')[1].split("</p>")[0]
    assert_in_order(lead, REFUSED_STEPS)


def test_the_form_is_prefilled_from_the_link(client, regions):
    page = client.get(FORM, {"region": "tomsk-oblast", "mesto": "70"}).content.decode()
    assert '<option value="tomsk-oblast" selected>' in page
    assert '<option value="70" selected>Томская область</option>' in page
    # All 89 subjects for «где это случилось», the 23 regions for the policy.
    assert len(re.findall(r'<option value="\d\d"', page)) == 89
    assert page.count('<option value="') == 23 + 89 + 2  # and the two empty choices


def test_choosing_a_region_from_the_form_leads_back_to_it(client, regions):
    """A citizen who came from an answer page (where it happened known) picks their region from
    the list and is back on the form, with their region and the place both selected."""
    page = client.get(FORM, {"region": "tomsk-oblast", "mesto": "70"}).content.decode()
    link = re.search(r'<a href="(/regions/[^"]*)">Выбрать свой регион</a>', page)[1]
    assert link == "/regions/?next=/obrashchenie/%3Fmesto%3D70"
    listed = client.get(link).content.decode()
    assert 'name="next" value="/obrashchenie/?mesto=70"' in listed
    chosen = client.post(
        "/regions/choose/",
        {"region": "perm-krai", "next": "/obrashchenie/?mesto=70"},
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert chosen["Location"] == "/obrashchenie/?mesto=70"
    form = client.get(chosen["Location"]).content.decode()
    assert '<option value="perm-krai" selected>' in form
    assert '<option value="70" selected>Томская область</option>' in form
    # With nothing to keep, the link still comes back to the form.
    plain = client.get(FORM).content.decode()
    assert 'href="/regions/?next=/obrashchenie/">Выбрать свой регион' in plain


def test_a_form_with_mistakes_keeps_where_choosing_a_region_leads(client, regions):
    """After a mistake the form came back with «Выбрать свой регион» leading to the home page:
    the place the person had chosen was lost with the choice."""
    page = submit(client, name="").content.decode()
    assert "Напишите, как к вам обращаться." in page
    assert 'href="/regions/?next=/obrashchenie/%3Fmesto%3D70">Выбрать свой регион' in page
    # A made-up place is not carried into the link.
    page = submit(client, name="", place="00").content.decode()
    assert 'href="/regions/?next=/obrashchenie/">Выбрать свой регион' in page


def test_someone_whose_region_is_not_in_the_list_is_told_where_to_write(client, regions):
    """The menu and home send everyone refused care here, yet the policy's region lists only
    the company's 23: a policy of another insurer had no choice and no word on what to do."""
    for page in (client.get(FORM), submit(client, region="")):
        html = page.content.decode()
        select = re.search(r'<select name="region"[^>]*>', html).group(0)
        assert 'aria-describedby="id_region_helptext' in select
        helptext = html.split('id="id_region_helptext">')[1].split("</div>")[0]
        assert "другая страховая компания" in helptext
        assert "ТФОМС региона, где вы сейчас" in helptext
        assert 'href="/v-drugom-regione/"' in helptext


def test_the_form_page_costs_one_query_once_regions_are_cached(
    client, regions, django_assert_num_queries
):
    client.get(FORM)
    with django_assert_num_queries(1):  # the content version (regions.caching)
        assert client.get(FORM).status_code == 200


def test_a_valid_appeal_is_saved_with_a_number_and_a_private_status_link(client, regions, settings):
    response = submit(client, phone="8 (900) 000-00-00")
    assert response.status_code == 303
    sent_url = response["Location"]
    assert sent_url.startswith("/obrashchenie/otpravleno/?t=")
    token = sent_url.split("?t=")[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64

    appeal = Appeal.objects.get()
    assert NUMBER.match(appeal.number)
    assert appeal.region.slug == "tomsk-oblast" and appeal.place_name == "Томская область"
    assert (appeal.text, appeal.name, appeal.email) == (TEXT, NAME, EMAIL)
    assert appeal.phone == "+7 900 000-00-00"
    assert appeal.status == Appeal.Status.NEW and appeal.consent_at
    # Only a hash of the token is stored.
    assert token not in json.dumps(list(Appeal.objects.values()), default=str)

    sent = client.get(sent_url)
    assert sent.status_code == 200
    assert sent["Cache-Control"] == "private, no-store"
    assert sent["X-Robots-Tag"] == "noindex"
    page = sent.content.decode()
    assert appeal.number in page
    assert '<meta name="robots" content="noindex">' in page
    # The address to keep, in full; the link itself stays on whatever host served the page.
    status_path = f"/obrashchenie/status/?t={token}"
    assert f'href="{status_path}">{settings.SITE_URL}{status_path}</a>' in page
    # On a shared computer the browser's «Назад» brings the filled form back (no-store or not).
    assert "кнопка «Назад» покажет форму с вашим текстом" in page

    status = client.get(f"/obrashchenie/status/?t={token}")
    assert status.status_code == 200
    assert status["Cache-Control"] == "private, no-store"
    assert status["X-Robots-Tag"] == "noindex"
    page = status.content.decode()
    assert '<meta name="robots" content="noindex">' in page
    assert "Новое" in page and "Ответа пока нет" in page
    assert TEXT not in page and EMAIL not in page  # a forwarded link shows no personal data

    (mail,) = OutboxMail.objects.all()
    assert mail.kind == OutboxMail.Kind.CONFIRMATION and mail.to == EMAIL
    assert appeal.number in mail.subject and token in mail.body


def test_pressing_send_twice_makes_one_appeal_and_shows_it_again(client, regions):
    """On a slow network without JavaScript nothing shows the first press: people press again."""
    data = form_data()
    first = client.post(FORM, data)
    second = client.post(FORM, data)
    assert Appeal.objects.count() == 1
    assert second.status_code == 303 and second["Location"] == first["Location"]
    assert Appeal.objects.get().number in client.get(second["Location"]).text
    # The same page with another text is another appeal.
    assert client.post(FORM, data | {"text": TEXT + " И ещё одно."}).status_code == 303
    assert Appeal.objects.count() == 2


def test_the_same_appeal_sent_again_from_a_form_opened_anew_is_the_first_one(client, regions):
    """nginx's 503 page, for an answer lost on the way, says to go back and send again. The form
    is no-store: Back fetches it anew with a fresh stamp, the browser restores what was typed,
    and the appeal was stored twice, each with its own number."""
    first = client.post(FORM, form_data())
    number = Appeal.objects.get().number
    again = client.post(FORM, form_data())  # form_data(): a fresh stamp each time
    assert Appeal.objects.count() == 1
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert number in client.get(again["Location"]).text
    # Another instance, or the first page's link no longer kept: told it was received, and
    # where its number is, not the number (the browser can no longer be told from another).
    clear_caches()
    told = client.post(FORM, form_data())
    assert "Это обращение уже получено" in told.text and number not in told.text
    assert Appeal.objects.count() == 1
    # The same words from someone else, or about another region, are another appeal.
    assert client.post(FORM, form_data(email="drugoy.test@example.com")).status_code == 303
    assert client.post(FORM, form_data(region="perm-krai")).status_code == 303
    assert Appeal.objects.count() == 3


def test_the_same_appeal_from_another_browser_is_told_neither_the_number_nor_the_link(regions):
    """The first appeal's link shows the company's answer: it goes back only to the browser that
    sent it, never to whoever sends the same words and contacts meanwhile. Nor its number, with
    which the hotline talks about the appeal."""
    first, other = Client(), Client()
    for browser in (first, other):
        browser.get(FORM)  # the form's page sets the browser's CSRF cookie
    data = form_data()
    sent = first.post(FORM, data)
    assert sent.status_code == 303
    again = first.post(FORM, data)
    assert again.status_code == 303 and again["Location"] == sent["Location"]
    told = other.post(FORM, data)
    assert told.status_code == 200 and "Это обращение уже получено" in told.text
    assert Appeal.objects.get().number not in told.text
    assert "/obrashchenie/status/?t=" not in told.text
    assert "/obrashchenie/otpravleno/" not in told.text
    assert Appeal.objects.count() == 1


def test_the_same_appeal_sent_again_a_day_later_is_a_new_one(client, regions):
    client.post(FORM, form_data())
    Appeal.objects.update(created_at=timezone.now() - REPEAT_WINDOW - timedelta(minutes=1))
    clear_caches()
    assert client.post(FORM, form_data()).status_code == 303
    assert Appeal.objects.count() == 2
    # The key moved to the new one: the next press finds that one.
    client.post(FORM, form_data())
    assert Appeal.objects.count() == 2


def test_a_second_press_is_not_counted_against_the_limits(client, regions, settings):
    settings.APPEALS_RATE_PER_CONTACT = "1/d"
    data = form_data()
    first = client.post(FORM, data)
    second = client.post(FORM, data)
    assert second.status_code == 303 and second["Location"] == first["Location"]
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    ("rate", "words"),
    [
        ("10/h", "через час"),
        ("5/d", "через сутки"),
        ("10/15m", "через час"),
        ("3/30s", "через минуту"),
        ("10/2d", "позже"),
        ("nonsense", "позже"),
    ],
)
def test_the_wait_is_said_from_the_rates_window(rate, words):
    assert wait_words(rate) == words


def test_a_repeat_whose_link_is_gone_is_told_where_the_number_is_not_made_again(
    client, regions, settings
):
    data = form_data()
    client.post(FORM, data)
    clear_caches()  # another instance, or the link's time kept for repeats is over
    page = client.post(FORM, data)
    assert page.status_code == 200
    text = page.content.decode().replace("\xa0", " ")
    assert "Это обращение уже получено" in text
    assert Appeal.objects.get().number not in text
    assert "/obrashchenie/status/?t=" not in text  # the link is never rebuilt from the number
    assert "в письме о получении обращения" in text
    assert f'href="tel:{settings.HOTLINE_TEL}"' in text
    assert Appeal.objects.count() == 1


def test_a_repeat_does_not_say_whether_the_appeal_gave_an_e_mail_address(regions):
    """«We will send the link to your e-mail» was said only for an appeal that gave one: whoever
    knew the text and a phone learnt whether the person had also given an address."""
    first, other = Client(), Client()
    for browser in (first, other):
        browser.get(FORM)
    with_email = form_data()
    phone_only = form_data(email="", phone=PHONE, text=f"{TEXT} По телефону.")
    told = []
    for data in (with_email, phone_only):
        assert first.post(FORM, data).status_code == 303
        told.append(other.post(FORM, data))
    assert all(page.status_code == 200 for page in told)
    assert main_part(told[0]) == main_part(told[1])
    assert "Это обращение уже получено" in main_part(told[0])
    assert Appeal.objects.count() == 2


def test_the_same_appeal_from_another_browser_counts_against_the_address_limit(regions, settings):
    """Sent again and again from another browser, the same content confirmed each time, without
    limit, that the person had written it. The browser that sent it still gets its page on a
    second press, even with the limit reached."""
    settings.APPEALS_RATE_PER_ADDRESS = "3/h"
    first, other = Client(), Client()
    for browser in (first, other):
        browser.get(FORM)
    data = form_data()
    sent = first.post(FORM, data)  # 1 of 3
    assert sent.status_code == 303
    for _ in range(2):  # 2 and 3 of 3
        assert other.post(FORM, data).status_code == 200
    refused = other.post(FORM, data)
    assert refused.status_code == 429
    page = refused.content.decode().replace("\xa0", " ")
    assert "сайт временно не принимает обращения с вашего подключения к интернету" in page
    assert "уже получено" not in page and Appeal.objects.get().number not in page
    # The sender's second press: the link it was shown, not the limit's page.
    again = first.post(FORM, data)
    assert again.status_code == 303 and again["Location"] == sent["Location"]
    # It was not counted either: the limit is reached, not passed (another appeal is refused).
    assert first.post(FORM, form_data(text=f"{TEXT} Ещё.")).status_code == 429
    assert Appeal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_presses_at_the_same_moment_make_one_appeal(regions):
    """The first press's insert is not committed yet when the second looks for it: the second
    waits on the unique key, then is told about the first."""
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections writing at once: run with DATABASE_URL=postgres://…")
    key = form_key(form_data())
    with held_open(lambda: make_appeal(key=key)):
        second = InBackground(lambda: make_appeal(key=key))
        wait_until_a_query_waits_on_a_lock()
    assert isinstance(second.join().error, AlreadyReceived)
    assert second.error.appeal == Appeal.objects.get()


def test_numbers_are_unique_and_follow_the_insert_order(regions):
    numbers = [make_appeal()[0].number for _ in range(3)]
    assert len(set(numbers)) == 3
    assert all(NUMBER.match(number) for number in numbers)
    assert numbers == sorted(numbers)


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 500])
def test_a_wrong_token_says_what_to_do_and_nothing_of_any_appeal(client, regions, settings, token):
    _, real = make_appeal()
    # A real link cut where an e-mail client broke the line, and made-up ones: one page for all.
    cut = main_part(client.get(f"/obrashchenie/status/?t={real[:20]}"))
    assert "Обращение по этой ссылке не найдено" in cut and "целиком" in cut
    assert "регистрационный номер" in cut and f'href="tel:{settings.HOTLINE_TEL}"' in cut
    for url in (f"/obrashchenie/status/?t={token}", f"/obrashchenie/otpravleno/?t={token}"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Cache-Control"] == "private, no-store"
        assert main_part(response) == cut


def main_part(response) -> str:
    page = response.content.decode()
    return page[page.index("<main") : page.index("</main>")]


def test_the_status_page_shows_the_answer_as_text(client, regions, django_assert_num_queries):
    appeal, token = make_appeal()
    appeal.answer = "Ответ (тест).\n<script>alert('x')</script><b>жирный</b>"
    appeal.status = Appeal.Status.ANSWERED
    appeal.save()
    Company.objects.current()  # the footer's company record, cached as on a running site
    with django_assert_num_queries(2):  # the content version (footer), the appeal
        page = client.get(f"/obrashchenie/status/?t={token}").content.decode()
    assert "Дан ответ" in page and "Ответ (тест)." in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&lt;b&gt;жирный&lt;/b&gt;" in page
    assert "<script>alert" not in page and "<b>жирный" not in page


def test_mistakes_are_shown_beside_the_fields_and_the_text_is_kept(client, regions):
    response = submit(client, email="", phone="", topic="", name="")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert "<title>Ошибка: " in page
    assert "Укажите электронную почту или телефон, чтобы мы могли ответить." in page
    assert "Выберите тему обращения." in page and "Напишите, как к вам обращаться." in page
    assert 'id="id_email_error"' in page and 'aria-invalid="true"' in page
    assert 'href="#id_topic_0"' in page
    assert TEXT in page  # kept in the textarea
    assert not Appeal.objects.exists()


def test_a_missing_contact_is_listed_once_above_the_form(client, regions):
    """Neither e-mail nor phone: the summary said «Электронная почта: Укажите электронную почту
    или телефон…» and «Телефон: Укажите электронную почту или телефон…», one mistake twice."""
    page = submit(client, email="", phone="", name="").content.decode()
    start = page.index('class="error-summary"')
    summary = page[start : page.index("</div>", start)]
    assert summary.count("Укажите электронную почту или телефон") == 1
    assert (
        '<li><a href="#id_email">Укажите электронную почту или телефон, чтобы мы могли ответить.'
        "</a></li>"
    ) in summary
    # A mistake that names its field is not put after the field's name again («Как к вам
    # обращаться: Напишите, как к вам обращаться.»); beside the fields both still say what is
    # missing.
    assert '<a href="#id_name">Напишите, как к вам обращаться.</a>' in summary
    assert "Обращение не отправлено. Исправьте, пожалуйста:" in summary
    invalid = submit(client, email="не-адрес").content.decode()
    assert '<a href="#id_email">Электронная почта: Проверьте адрес' in invalid
    assert 'id="id_email_error"' in page and 'id="id_phone_error"' in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "не-адрес"}, "Проверьте адрес"),
        ({"email": "", "phone": "123"}, "Проверьте номер телефона"),
        ({"text": "я" * 5001}, "Текст длиннее 5000 знаков (сейчас 5001)"),
        ({"consent": ""}, "Без согласия на обработку данных"),
        ({"region": "atlantis"}, "Выберите корректный вариант"),
        ({"place": "00"}, "Выберите корректный вариант"),
        # Longer than the model keeps: a 500 after the limits had counted it, the text lost.
        ({"email": "i" * 64 + "@" + ".".join(["d" * 63] * 3) + ".ru"}, "не более 254"),
        ({"email": "", "phone": "+79000000000 ext 12345678901234567890"}, "слишком длинный"),
    ],
)
def test_invalid_values_are_refused_in_russian(client, regions, fields, message):
    page = submit(client, **fields).content.decode()
    assert message in page
    assert not Appeal.objects.exists()


# A Cyrillic label the validator counts as 34 letters; IDNA-encoded, as mail carries it, 47.
LONG_LABEL = "обязательноемедицинскоестрахование"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        # One label over 63 octets once encoded, though 63 letters as typed.
        ("a@" + ".".join(["я" * 63] * 3) + ".рф", "слишком длинная"),
        ("anna@" + "ж" * 63 + ".рф", "слишком длинная"),
        # Every label fits, the whole name does not: 214 characters typed, 296 encoded.
        ("a@" + ".".join([LONG_LABEL] * 6) + ".рф", "слишком длинная"),
        # A machine's address instead of a mail service's name.
        ("anna@[127.0.0.1]", "а не цифры в квадратных скобках"),
    ],
)
def test_addresses_no_mail_can_be_sent_to_are_refused(client, regions, email, message):
    # They were accepted; the confirmation then failed at every attempt of the outbox.
    response = submit(client, email=email)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Исправьте" in page and message in page
    assert "Проверьте" in page and "«@»" in page  # says where the mistake is
    assert TEXT in page  # kept
    assert not Appeal.objects.exists() and not OutboxMail.objects.exists()
    # A Cyrillic domain that fits is taken as before.
    assert submit(client, email="ivanova@пример.рф").status_code == 303
    assert OutboxMail.objects.get().to == "ivanova@пример.рф"


class DatabaseGoesAway:
    """From the first statement `fails_from(sql)` picks, the database answers every statement
    with the error a PostgreSQL that went away gives; what stopping the shared server would
    do to every other test, on this request's connection only. Savepoints still pass: here the
    view's transaction runs inside the test's, and that one must roll back cleanly (in
    production the outermost rollback fails and Django drops the connection)."""

    def __init__(self, fails_from):
        self.fails_from = fails_from
        self.failed = []

    def __call__(self, execute, sql, params, many, context):
        savepoint = sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
        if not savepoint and (self.failed or self.fails_from(sql)):
            self.failed.append(sql)
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.parametrize(
    "fails_from",
    [
        # Away before the request: its first query, the content version (on SQLite; with Redis,
        # once the copy of it there is older than CONTENT_VERSION_TIMEOUT), got the 500 page.
        pytest.param(lambda sql: True, id="content-version"),
        # The look-up for the same appeal sent before.
        pytest.param(lambda sql: '"appeals_appeal"' in sql, id="look-up"),
        pytest.param(lambda sql: sql.startswith('INSERT INTO "appeals_appeal"'), id="save"),
        # The appeal's row written already, in the transaction that must then undo it.
        pytest.param(lambda sql: sql.startswith('INSERT INTO "appeals_outboxmail"'), id="mail"),
    ],
)
def test_an_appeal_the_database_could_not_take_is_said_not_received_and_kept(
    client,
    regions,
    settings,
    fails_from,
    json_log,  # noqa: F811
):
    # It got the generic 500 page («Попробуйте открыть страницу через несколько минут»): not a
    # word that nothing was received, and a long text lost unless the browser kept it.
    sent = form_data(phone=PHONE, place="54", topic="quality")
    database = DatabaseGoesAway(fails_from)
    with connection.execute_wrapper(database):
        response = client.post(FORM, sent)
    assert database.failed  # the simulated outage was met
    assert response.status_code == 503
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode().replace("\xa0", " ")
    assert "<title>Ошибка: " in page
    assert "Обращение не отправлено" in page and "Мы не получили ваше обращение" in page
    words = re.sub(r"<[^>]+>", "", page)  # a phone number's groups are boxes of their own
    assert "через несколько минут" in page and settings.HOTLINE_DISPLAY in words
    assert "Исправьте" not in page and "На сайте произошла ошибка" not in page
    # Every field comes back as it was typed, ready to send again.
    assert f"{TEXT}</textarea>" in page
    assert f'value="{NAME}"' in page and f'value="{EMAIL}"' in page
    assert f'value="{PHONE}"' in page
    assert '<option value="tomsk-oblast" selected>' in page
    assert '<option value="54" selected>' in page
    assert re.search(r'value="quality"[^>]* checked>', page)
    assert re.search(r'name="consent"[^>]* checked>', page)
    assert f'value="{sent["started"]}"' in page  # the same form: a second press is one appeal
    # Nothing half-kept: the promise «не получили» holds, and the same form goes through once
    # the database is back.
    assert not Appeal.objects.exists() and not OutboxMail.objects.exists()
    assert client.post(FORM, sent).status_code == 303
    assert Appeal.objects.count() == 1
    # Staff are told, without the person's data.
    lines = json_log()
    (failure,) = [line for line in lines if line["logger"] == "appeals.views"]
    assert failure["level"] == "ERROR" and "OperationalError" in failure["message"]
    logged = json.dumps(lines, ensure_ascii=False)
    for private in (TEXT, NAME, EMAIL, PHONE, "900 000-00-00", "9000000000"):
        assert private not in logged


def test_line_breaks_count_as_one_character_as_in_the_browser(client, regions):
    """The browser counts a line break as one character for the field's maxlength and sends it
    as two (CR LF): a text the browser let through was refused as too long."""
    line = "я" * 99
    text = "\r\n".join([line] * 50)  # 4,950 characters and 49 line breaks
    assert len(text.replace("\r\n", "\n")) == 4999
    response = submit(client, text=text)
    assert response.status_code == 303
    assert Appeal.objects.get().text == "\n".join([line] * 50)


def test_html_in_the_text_is_kept_as_text(client, regions):
    script = "<script>alert(1)</script>"
    page = submit(client, text=script, email="").content.decode()  # refused: no contact
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and script not in page
    submit(client, text=script)
    assert Appeal.objects.get().text == script


def test_the_honeypot_refuses_a_robot(client, regions):
    page = submit(client, website="http://spam.example.com/").content.decode()
    assert "заполнено поле «Оставьте это поле пустым»" in page
    assert not Appeal.objects.exists()


def test_a_form_sent_too_fast_or_with_a_forged_time_is_refused(client, regions, settings):
    settings.APPEALS_MIN_FILL_SECONDS = 5
    page = submit(client, started=started(seconds_ago=1)).content.decode()
    assert "Форма отправлена слишком быстро" in page
    assert TEXT in page
    # Nothing to correct: one more press is all it takes.
    assert '<h2 id="error-summary-title">Обращение не отправлено</h2>' in page
    page = submit(client, started="123:forged").content.decode()
    assert "Страница с формой устарела" in page
    assert not Appeal.objects.exists()
    # The kept timestamp lets the person send again once enough time has passed.
    assert submit(client, started=started(seconds_ago=6)).status_code == 303


def test_a_form_left_open_over_a_day_is_refused_keeps_the_text_and_can_be_sent_again(
    client, regions, monkeypatch, settings
):
    # Signed a day and an hour ago: the signature's own time is what expires.
    day_ago = time.time() - 25 * 3600
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: day_ago)
        stamp = started(seconds_ago=0)
    page = submit(client, started=stamp).content.decode()
    assert "Страница с формой устарела" in page
    assert TEXT in page
    assert not Appeal.objects.exists()
    fresh = re.search(r'name="started" value="([^"]+)"', page).group(1)
    settings.APPEALS_MIN_FILL_SECONDS = 0  # pressed again at once
    assert submit(client, started=fresh).status_code == 303
    assert Appeal.objects.count() == 1


def test_too_many_appeals_from_one_address_get_a_russian_429(client, regions, settings):
    settings.APPEALS_RATE_PER_ADDRESS = "3/h"
    for n in range(3):
        assert submit(client, email=f"test{n}@example.com").status_code == 303
    response = submit(client, email="test9@example.com", text="Мой текст, набранный заново.")
    assert response.status_code == 429
    page = response.content.decode().replace("\xa0", " ")
    assert "сайт временно не принимает обращения с вашего подключения к интернету" in page
    assert "Попробуйте через час." in page
    assert "Исправьте" not in page  # there is nothing to correct
    # Nothing the person typed is lost: the form comes back filled in, ready to copy or send.
    assert "Мой текст, набранный заново.</textarea>" in page
    assert 'value="test9@example.com"' in page
    assert "Cache-Control" in response and "no-store" in response["Cache-Control"]
    # Another address is not affected.
    assert client.post(FORM, form_data(), REMOTE_ADDR="192.0.2.10").status_code == 303
    assert Appeal.objects.count() == 4


def test_behind_our_proxy_the_limit_counts_the_client_address(client, regions, settings):
    settings.APPEALS_RATE_PER_ADDRESS = "1/h"
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    via_proxy = {"REMOTE_ADDR": "10.0.0.5"}
    first = client.post(FORM, form_data(), HTTP_X_REAL_IP="198.51.100.1", **via_proxy)
    assert first.status_code == 303
    other = form_data(email="other@example.com")
    assert client.post(FORM, other, HTTP_X_REAL_IP="198.51.100.2", **via_proxy).status_code == 303
    again = form_data(email="third@example.com")
    assert client.post(FORM, again, HTTP_X_REAL_IP="198.51.100.1", **via_proxy).status_code == 429


def test_too_many_appeals_with_one_contact_get_a_429(client, regions, settings):
    settings.APPEALS_RATE_PER_CONTACT = "2/d"
    # Other appeals each time: the same one sent again is not another.
    for n in range(2):
        address = f"192.0.2.{n + 1}"
        sent = form_data(text=f"{TEXT} ({n})")
        assert client.post(FORM, sent, REMOTE_ADDR=address).status_code == 303
    again = client.post(
        FORM, form_data(email="ZAYAVITEL.test@example.com"), REMOTE_ADDR="192.0.2.9"
    )
    assert again.status_code == 429
    assert 'value="ZAYAVITEL.test@example.com"' in again.content.decode()
    told = again.content.decode().replace("\xa0", " ")
    assert "С этой электронной почтой или этим телефоном" in told
    assert "Попробуйте через сутки." in told
    for n, expected in ((11, 303), (12, 303), (13, 429)):
        phone_only = form_data(email="", phone="8 900 000-00-00", text=f"{TEXT} ({n})")
        assert client.post(FORM, phone_only, REMOTE_ADDR=f"192.0.2.{n}").status_code == expected
    assert Appeal.objects.count() == 4


def test_one_mailbox_written_several_ways_is_one_contact(client, regions, settings):
    """Each way of writing the address was a fresh allowance of confirmation mails to it."""
    settings.APPEALS_RATE_PER_CONTACT = "1/d"
    ways = [
        "ivanova.test@example.ru",
        "Ivanova.Test+1@example.ru",
        '"ivanova.test"@example.ru',
        "ivanova.test@EXAMPLE.ru",
    ]
    answers = [
        client.post(FORM, form_data(email=email, phone=""), REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n, email in enumerate(ways, start=1)
    ]
    assert answers == [303, 429, 429, 429]
    assert (
        client.post(
            FORM, form_data(email="ivanova.test@пример.рф", phone=""), REMOTE_ADDR="192.0.2.20"
        ).status_code
        == 303
    )
    assert (
        client.post(
            FORM,
            form_data(email="ivanova.test@xn--e1afmkfd.xn--p1ai", phone=""),
            REMOTE_ADDR="192.0.2.21",
        ).status_code
        == 429
    )
    # The providers' own aliases, and a phone's extensions: one mailbox, one phone.
    pairs = [
        ("ivanova.test@gmail.com", "i.vanovatest@googlemail.com"),
        ("ivanova.test@yandex.ru", "ivanova-test@ya.ru"),
    ]
    for n, emails in enumerate(pairs):
        answers = [
            client.post(
                FORM, form_data(email=email, phone=""), REMOTE_ADDR=f"192.0.2.{30 + 2 * n + k}"
            )
            for k, email in enumerate(emails)
        ]
        assert [answer.status_code for answer in answers] == [303, 429], emails
    phones = [f"+7 900 000-00-00 доб. {n}" for n in (1, 2)]
    answers = [
        client.post(FORM, form_data(email="", phone=phone), REMOTE_ADDR=f"192.0.2.{40 + k}")
        for k, phone in enumerate(phones)
    ]
    assert [answer.status_code for answer in answers] == [303, 429]


def test_the_contact_limits_keys_do_not_give_the_contact_away():
    """The keys live in Redis: a plain hash of a phone number is undone by trying numbers."""
    form = AppealForm(data={}, regions={})
    form.cleaned_data = {"email": "", "phone": PHONE}
    (key,) = form.contact_keys()
    assert "79000000000" not in key
    assert key != hashlib.sha256(b"phone:79000000000").hexdigest()


def test_the_rate_limits_live_in_the_shared_cache(client, regions, settings):
    settings.APPEALS_RATE_PER_ADDRESS = "1/h"
    assert submit(client).status_code == 303
    clear_caches()  # another instance with an empty cache would count from zero: this one
    assert submit(client, email="other@example.com").status_code == 303


@pytest.mark.parametrize("size", [200 * 1024, 3 * 1024 * 1024])
def test_a_body_over_the_limit_is_refused_cleanly(client, regions, size):
    response = submit(client, text="я" * (size // 2))
    assert response.status_code == 413
    page = response.content.decode()
    assert "Слишком большой запрос" in page and "5000 знаков" in page
    assert not Appeal.objects.exists()


def test_no_personal_data_in_the_request_log(client, regions, json_log):  # noqa: F811
    secret_text = "Текст-который-нельзя-в-лог"
    submit(client, text=secret_text, phone="+7 900 000-00-01")
    token = Appeal.objects.get() and OutboxMail.objects.get().body.split("?t=")[1].split()[0]
    client.get(f"/obrashchenie/status/?t={token}")
    submit(client, text=secret_text, email="", phone="")  # refused, shown again
    lines = json_log()
    requests = [line for line in lines if line["logger"] == "omsportal.request"]
    assert [(line["method"], line["path"]) for line in requests] == [
        ("POST", FORM),
        ("GET", "/obrashchenie/status/"),
        ("POST", FORM),
    ]
    text = json.dumps(lines, ensure_ascii=False)
    for private in (secret_text, NAME, EMAIL, "900 000-00-01", "9000000001", token):
        assert private not in text


def test_error_reports_hide_the_form_fields(client, regions):
    response = submit(client)
    request = response.wsgi_request
    hidden = SafeExceptionReporterFilter().get_post_parameters(request)
    assert hidden["text"] == hidden["name"] == hidden["email"] == "********************"


def test_new_appeals_notify_the_region_at_its_address(client, regions, settings):
    Region.objects.filter(slug="tomsk-oblast").update(appeals_email="oms-tomsk@example.com")
    submit(client)
    notification = OutboxMail.objects.get(kind=OutboxMail.Kind.NOTIFICATION)
    appeal = Appeal.objects.get()
    assert notification.to == "oms-tomsk@example.com"
    assert appeal.number in notification.subject
    admin_url = f"{settings.SITE_URL}/admin/appeals/appeal/{appeal.pk}/change/"
    assert admin_url in notification.body
    for private in (TEXT, NAME, EMAIL):
        assert private not in notification.body
    # A region without an address: no notification.
    submit(client, region="moscow", email="other@example.com")
    assert OutboxMail.objects.filter(kind=OutboxMail.Kind.NOTIFICATION).count() == 1


def test_a_phone_only_appeal_queues_no_mail(client, regions):
    submit(client, email="", phone="8 900 000-00-00")
    assert Appeal.objects.get().email == ""
    assert not OutboxMail.objects.exists()


def test_a_phone_only_appeal_is_not_promised_an_answer_on_its_page(client, regions):
    """Staff may answer by phone and close the appeal: its page then says it was closed without
    an answer there, so the confirmation must not promise one."""
    sent = client.get(submit(client, email="", phone="8 900 000-00-00")["Location"])
    page = main_part(sent)
    assert "Вам ответят по телефону." in page
    assert "Ответ появится и на странице обращения" not in page
    assert "Если ответ будет письменным, он появится и на странице обращения." in page


def test_a_refused_csrf_token_gives_the_form_back_with_what_was_typed(regions):
    # The token's cookie expired or was cleared while the person typed (a phone's browser
    # clears cookies, a form left open for days): the generic «Форма устарела» page asked them
    # to go back and copy their text, which some browsers no longer show. The form comes back
    # filled in, with a fresh token, and nothing is saved.
    client = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "same-origin"})
    response = client.post(FORM, form_data(phone=PHONE, email=""))
    assert response.status_code == 403
    assert response["Cache-Control"] == "private, no-store"
    page = response.content.decode()
    assert "<title>Ошибка: " in page
    assert "Обращение не отправлено" in page and 'файлы <span lang="en">cookie</span>' in page
    assert TEXT in page and NAME in page and f'value="{PHONE}"' in page
    assert '<option value="tomsk-oblast" selected>' in page
    assert re.search(r'value="refused"[^>]* checked>', page)
    assert re.search(r'name="consent"[^>]* checked>', page)
    assert 'name="csrfmiddlewaretoken"' in page and "csrftoken" in response.cookies
    assert not Appeal.objects.exists()
    # With the cookie it was given, the form as it came back goes through.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    again = client.post(FORM, form_data(phone=PHONE, email="", csrfmiddlewaretoken=token))
    assert again.status_code == 303
    assert Appeal.objects.count() == 1


@pytest.mark.parametrize(
    "where_from", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}]
)
def test_a_form_posted_from_another_site_is_not_turned_into_a_ready_appeal(regions, where_from):
    # Another site's form, posted here, would otherwise come back as our form filled with its
    # author's text and e-mail, consent ticked, one press from being sent by a visitor.
    client = Client(enforce_csrf_checks=True, headers=where_from)
    response = client.post(FORM, form_data(email="attacker@example.com"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "attacker@example.com" not in page and TEXT not in page
    assert 'name="csrfmiddlewaretoken"' not in page
    assert not Appeal.objects.exists()


def test_the_form_given_back_after_a_csrf_refusal_can_be_sent_at_once(regions):
    # The person already spent minutes on it: the form keeps the moment it was first opened,
    # so the press that follows is not refused as «слишком быстро» (a fresh stamp restarted
    # APPEALS_MIN_FILL_SECONDS), and a second press of that same form is still recognised.
    client = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "same-origin"})
    opened = started(seconds_ago=600)
    page = client.post(FORM, form_data(started=opened)).content.decode()
    assert f'name="started" value="{opened}"' in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    again = client.post(FORM, form_data(started=opened, csrfmiddlewaretoken=token))
    assert again.status_code == 303
    assert Appeal.objects.get().form_key == form_key(form_data())


def test_a_stale_stamp_is_not_given_back_after_a_csrf_refusal(regions):
    client = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "same-origin"})
    page = client.post(FORM, form_data(started="123:forged")).content.decode()
    assert 'name="started" value="123:forged"' not in page
    assert 'name="started" value="' in page


def test_error_reports_of_a_csrf_refusal_hide_what_the_person_typed(regions):
    # As for the form's own view: a 500 while showing the form again must not put the text,
    # health details included, into an error report.
    client = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "same-origin"})
    response = client.post(FORM, form_data())
    assert response.status_code == 403
    filtered = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert TEXT not in filtered.values() and NAME not in filtered.values()
