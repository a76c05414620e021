"""Pages cite the law through these tags, so a change of law is an admin edit, not a release."""

import datetime
import logging

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html

from regions.checks import check_is_due

from ..models import EXPIRED_ADVICE, LegalAct

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag
def cite(act_slug: str, *provision_slugs: str) -> str:
    """«п. 1 ч. 1 ст. 16, ч. 1 ст. 45 Федерального закона от … № … «…»», linked when a link
    was checked; the act alone, named in full, without provisions."""
    act = LegalAct.objects.index().get(act_slug)
    if act is None:
        logger.warning("A page cites the legal act %r, which is not in the database", act_slug)
        return ""
    by_slug = {provision.slug: provision for provision in act.provisions.all()}
    provisions = [by_slug[slug].text for slug in provision_slugs if slug in by_slug]
    name = act.full_name_genitive if provisions else act.full_name
    if act.url:
        name = format_html('<a href="{}">{}</a>', act.url, name)
    if act.expired:
        # The page names the act as its basis still: said where it is cited, too.
        until = date_format(act.in_force_until, "j E Y")
        name = format_html("{} (срок действия истёк: в силе по {} г.)", name, until)
    if provisions:
        return format_html("{} {}", ", ".join(provisions), name)
    return format_html("{}", name)


@register.simple_tag
def legal_checked_on(*act_slugs: str) -> datetime.date | None:
    """The oldest check of the acts a page cites, or None while one of them is unchecked."""
    return LegalAct.objects.checked_on(*act_slugs)


@register.inclusion_tag("legal/_current_on.html")
def legal_current_on(*act_slugs: str) -> dict:
    """The line atop a page citing these acts: when they were checked, that they are not yet, or
    that one of them is past its term (marked where it is cited).

    A term ends at midnight, not by an edit, so nothing raises the content version: pages cached
    before it keep citing the act as current for up to CONTENT_TIMEOUT, and nginx's copies of
    newcomers' pages for up to PUBLIC_PAGE_MAX_AGE + PUBLIC_PAGE_STALE more."""
    return {
        "checked_on": LegalAct.objects.checked_on(*act_slugs),
        "expired": LegalAct.objects.expired(*act_slugs),
    }


@register.inclusion_tag("legal/_review_notice.html")
def legal_review_notice() -> dict:
    acts = list(LegalAct.objects.order_by("order", "slug"))
    # An act past its term wants replacing, not checking: listed once, for that.
    current = [act for act in acts if not act.expired]
    return {
        "expired": [act for act in acts if act.expired],
        "expired_advice": EXPIRED_ADVICE,
        "unchecked": [act for act in current if act.checked_on is None],
        "stale": [act for act in current if act.checked_on and check_is_due(act.checked_on)],
    }
