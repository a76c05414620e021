import logging
from http import HTTPStatus
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import cache_control
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import is_ratelimited

from company.models import Company
from regions.caching import assume_version_of
from regions.models import INDEX, Region
from regions.same_origin import is_same_origin

from .forms import AppealForm
from .models import Appeal
from .services import TYPED_FIELDS, AlreadyReceived, earlier_appeal, form_key, receive_appeal
from .subjects import subjects

logger = logging.getLogger(__name__)

# What a person sends or is told about their appeal is never kept by any cache.
private_page = cache_control(private=True, no_store=True)


def not_indexed(response):
    response["X-Robots-Tag"] = "noindex"
    # The address carries the status token: other sites are never told it.
    response["Referrer-Policy"] = "no-referrer"
    return response


# When a fixed window of django-ratelimit ("10/h", "5/d", "10/15m") is over at the latest.
RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WAITS = ((60, "через минуту"), (3600, "через час"), (86400, "через сутки"))


def wait_words(rate: str) -> str:
    period = rate.partition("/")[2]
    count, unit = period[:-1] or "1", period[-1:]
    if not count.isdigit() or unit not in RATE_UNITS:
        return "позже"
    seconds = int(count) * RATE_UNITS[unit]
    return next((words for limit, words in WAITS if seconds <= limit), "позже")


def too_many(request, form: AppealForm, *, rate: str, by: str):
    """The form again, with what the person typed: a limit must not cost them their text."""
    return render(
        request,
        "appeals/form.html",
        {
            "form": form,
            "limited": by,
            "retry": wait_words(rate),
            "choose_next": _back_to_form(form.data.get("place")),
        },
        status=HTTPStatus.TOO_MANY_REQUESTS,
    )


def not_received(request, form: AppealForm, error: DatabaseError):
    """The database failed before the appeal was saved: the form again, with what the person
    typed, saying that nothing was received. The generic 500 page said neither, and whoever
    took it for a confirmation waited for an answer that never came."""
    # The type and SQLSTATE only: a database's message can quote the row (PostgreSQL's
    # «Failing row contains …»), and the row is the person's name, contacts and health.
    cause = error.__cause__ or error
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    logger.error(
        "Appeal not received: the database failed (%s%s)",
        type(cause).__name__,
        f", SQLSTATE {code}" if code else "",
    )
    response = render(
        request,
        "appeals/form.html",
        # The footer's company details come from the database too: this page must not fail
        # on them and turn into the generic 500 after all.
        {"form": form, "unavailable": True, "company": SimpleLazyObject(_company_or_blank)},
        status=HTTPStatus.SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = "60"
    return response


def _company_or_blank() -> Company:
    try:
        return Company.objects.current()
    except DatabaseError:
        return Company()


def _regions() -> list[Region]:
    return Region.objects.index().regions


def _initial(request) -> dict:
    index = Region.objects.index()
    initial = {}
    if region := index.by_slug.get(request.GET.get("region", "")):
        initial["region"] = region.slug
    elif request.region_confirmed and request.region:
        initial["region"] = request.region.slug
    if (place := request.GET.get("mesto", "")) in subjects():
        initial["place"] = place
    return initial


def _back_to_form(place: str | None) -> str:
    """Where choosing a region from this form leads: back to it, keeping where it happened
    (only one of the 89 codes, whoever sent it).

    The policy's region is left out: the one just chosen preselects it."""
    kept = place in subjects()
    return reverse("appeals:new") + (f"?{urlencode({'mesto': place})}" if kept else "")


@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def new(request):
    if request.method != "POST":
        regions = _regions()
        initial = _initial(request)
        form = AppealForm(initial=initial, regions=regions)
        return render(
            request,
            "appeals/form.html",
            {"form": form, "choose_next": _back_to_form(initial.get("place"))},
        )

    if _declared_too_long(request):
        return render(request, "413.html", status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    try:
        # With the database already away when the request came, its first query is here: the
        # content version (Redis's copy of it lives CONTENT_VERSION_TIMEOUT seconds), then the
        # index. The form back with what was typed, as for a failure further on.
        regions = _regions()
    except DatabaseError as error:
        if not assume_version_of(*INDEX):
            raise
        return not_received(request, AppealForm(request.POST, regions=_regions()), error)
    form = AppealForm(request.POST, regions=regions)
    key = form_key(request.POST)
    try:
        earlier = earlier_appeal(key)
    except DatabaseError as error:  # with Redis, the request's first query: an outage shows here
        return not_received(request, form, error)
    # «Отправить» pressed again in the browser that sent it: its page again, before the limits,
    # so that a second press right at the limit still finds the appeal. Nothing is given away
    # by not counting it: only the browser whose CSRF cookie the first press carried gets here,
    # and it was shown this link already.
    if earlier and (link := _link_kept_for(request, key, earlier)):
        return _see_other(link)
    # Every POST from an address counts, valid or not: a robot guessing costs it the same. The
    # same content from another browser too: unlimited, it let anyone who knew a person's words
    # and contacts confirm, as often as they liked, that the person had written.
    if is_ratelimited(
        request,
        group="appeals:address",
        key="ip",
        rate=settings.APPEALS_RATE_PER_ADDRESS,
        method="POST",
        increment=True,
    ):
        return too_many(request, form, rate=settings.APPEALS_RATE_PER_ADDRESS, by="connection")
    if earlier:
        # Back and again after an answer lost on the way, or its link no longer kept: not made
        # twice, and not counted against the contact's limit as another appeal.
        return _already_received(request)
    if not form.is_valid():
        # The choose link keeps where it happened, as on the first render.
        context = {"form": form, "choose_next": _back_to_form(form.data.get("place"))}
        return render(request, "appeals/form.html", context, status=HTTPStatus.OK)
    for contact in form.contact_keys():
        if is_ratelimited(
            request,
            group="appeals:contact",
            key=lambda group, request, c=contact: c,
            rate=settings.APPEALS_RATE_PER_CONTACT,
            method="POST",
            increment=True,
        ):
            return too_many(request, form, rate=settings.APPEALS_RATE_PER_CONTACT, by="contact")

    data = form.cleaned_data
    try:
        received = receive_appeal(
            region=data["region"],
            place_code=data["place"],
            topic=data["topic"],
            text=data["text"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            status_url=lambda token: _absolute(_with_token("appeals:status", token)),
            admin_url=lambda appeal: _absolute(
                reverse("admin:appeals_appeal_change", args=[appeal.pk])
            ),
            key=key,
        )
    except AlreadyReceived as already:  # the two presses arrived together (both counted above)
        if link := _link_kept_for(request, key, already.appeal):
            return _see_other(link)
        return _already_received(request)
    except DatabaseError as error:
        # receive_appeal's transaction is rolled back by then (or its connection dropped, when
        # even the rollback failed), so nothing was kept. The one exception, a COMMIT whose
        # answer was lost, is met by the form's key: the same form sent again finds it.
        return not_received(request, form, error)
    # The token is shown once, on the next page; a second press that arrives after the first
    # one's answer was lost on a slow network must be able to show it again, for a while.
    cache.set(_sent_key(request, key), received.token, SENT_TOKEN_TIMEOUT)
    return _see_other(_with_token("appeals:sent", received.token))


def _declared_too_long(request) -> bool:
    """A body larger than a whole appeal, by its Content-Length: refused before it is read."""
    return int(request.META.get("CONTENT_LENGTH") or 0) > settings.APPEALS_MAX_BODY_BYTES


@sensitive_post_parameters()
def refused_by_csrf(request):
    """Django's CSRF check refused a request (CSRF_FAILURE_VIEW asks here first): for the
    appeal form, whose cookie expired or was cleared while the person typed, the form again,
    filled in with what they sent and with a fresh token (this response sets the cookie anew),
    so that one more press sends it; nothing is saved. Only the values go back, unchecked, as a
    form shown for the first time, with the moment it was first opened (if its stamp is valid):
    the time the person spent on it counts, and a second press is still the same form.
    None: the plain refusal.

    Only for a form sent from this site: another site's form, posted here, would otherwise put
    its author's words and e-mail address into a ready-to-send appeal, consent ticked, before
    a visitor who may press «Отправить» without reading. It gets the plain refusal page."""
    if (
        request.method != "POST"
        or request.path != reverse("appeals:new")
        or _declared_too_long(request)
        or not is_same_origin(request)
    ):
        return None
    try:
        sent = request.POST
    except (OSError, RequestDataTooBig):
        return None
    return _form_again(request, sent)


@private_page
def _form_again(request, sent):
    initial = {name: sent.get(name, "") for name in TYPED_FIELDS}
    initial["consent"] = bool(sent.get("consent"))
    form = AppealForm(
        initial=initial, started=sent.get("started", ""), regions=Region.objects.index().regions
    )
    return render(
        request,
        "appeals/form.html",
        {"form": form, "refused": True, "choose_next": _back_to_form(sent.get("place"))},
        status=HTTPStatus.FORBIDDEN,
    )


def _link_kept_for(request, key: str, appeal: Appeal) -> str | None:
    """The page of ``appeal``, if this browser's first press made it (within the time kept)."""
    token = cache.get(_sent_key(request, key))
    if token and Appeal.objects.by_token(token) == appeal:
        return _with_token("appeals:sent", token)
    return None


def _already_received(request):
    """The same content again, from a browser not known to have sent it: that it was received,
    and where its number is, but neither the number nor whether an e-mail address was given.
    Whoever knows a person's words and contacts need not be the person, and with the number
    the hotline talks about the appeal."""
    return render(request, "appeals/already_sent.html")


SENT_TOKEN_PREFIX = "appeals:sent:"  # noqa: S105 - a cache key prefix
SENT_TOKEN_TIMEOUT = 600  # seconds


def _sent_key(request, key: str) -> str:
    """Where the link of the appeal ``key`` made is kept for a second press from the same
    browser (its CSRF cookie, which every accepted form carries). The key is the appeal's
    content alone: anyone who sent the same words and contacts within the time would otherwise
    be given the link, and with it the answer; another browser is told only that the appeal
    was received."""
    browser = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "")
    return f"{SENT_TOKEN_PREFIX}{key}:{salted_hmac(SENT_TOKEN_PREFIX, browser).hexdigest()}"


def _see_other(path: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(path)
    response.status_code = HTTPStatus.SEE_OTHER  # the browser GETs the page after the POST
    return response


def _absolute(path: str) -> str:
    # The configured origin, never the request's Host: a forged Host must not reach a mail.
    return settings.SITE_URL + path


def _with_token(name: str, token: str) -> str:
    # In the query string: the request log writes the path only (omsportal/logs.py).
    return f"{reverse(name)}?{urlencode({'t': token})}"


def _appeal_page(template: str):
    @require_safe
    @private_page
    def view(request):
        token = request.GET.get("t", "")
        appeal = Appeal.objects.by_token(token)
        if appeal is None:
            # The same page for every token that finds nothing: it says nothing of whether an
            # appeal exists, only what to do about a link that does not work (an e-mail client
            # broke it across lines, most often).
            return not_indexed(
                render(request, "appeals/not_found.html", status=HTTPStatus.NOT_FOUND)
            )
        status_path = _with_token("appeals:status", token)
        context = {
            "appeal": appeal,
            "status_path": status_path,
            "status_url": _absolute(status_path),
        }
        return not_indexed(render(request, template, context))

    return view


sent = _appeal_page("appeals/sent.html")
status = _appeal_page("appeals/status.html")
