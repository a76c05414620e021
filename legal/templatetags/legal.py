"""Pages cite the law through these tags, so a change of law is an admin edit, not a release."""

import datetime
import logging

from django import template
from django.utils.html import format_html

from regions.checks import check_is_due

from ..models import LegalAct

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
    if provisions:
        return format_html("{} {}", ", ".join(provisions), name)
    return format_html("{}", name)


@register.simple_tag
def legal_checked_on(*act_slugs: str) -> datetime.date | None:
    """The oldest check of the acts a page cites, or None while one of them is unchecked."""
    return LegalAct.objects.checked_on(*act_slugs)


@register.inclusion_tag("legal/_review_notice.html")
def legal_review_notice() -> dict:
    acts = list(LegalAct.objects.order_by("order", "slug"))
    return {
        "unchecked": [act for act in acts if act.checked_on is None],
        "stale": [act for act in acts if act.checked_on and check_is_due(act.checked_on)],
    }
