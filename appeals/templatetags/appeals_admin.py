from django import template

from appeals.admin import is_appeals_member
from appeals.models import Appeal
from regions.words import counted

register = template.Library()


@register.inclusion_tag("appeals/admin/_overdue_notice.html", takes_context=True)
def overdue_appeals_notice(context) -> dict:
    """On admin's start page, for the members of «Обращения» only: how many appeals are past
    the deadline set when they came in and still unanswered. A count and a link to the
    filtered list, no numbers: nothing here opens an appeal, so nothing goes to the access log."""
    request = context["request"]
    if not is_appeals_member(request):
        return {"overdue": 0}
    return {"overdue": Appeal.objects.with_overdue().filter(is_overdue=True).count()}


@register.filter
def appeals_counted(count: int) -> str:
    return counted(count, "обращение", "обращения", "обращений")
