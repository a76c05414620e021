"""Admin let staff mark «сверено» on an act without its date, number or name, and the rights
page then said its references were checked against the official texts while citing an act
nobody could find by what it printed. Admin now refuses that mark (LegalAct.why_not_checkable);
a mark made before is taken away here, so the pages stop claiming it and admin's start page asks
for the act again. Backwards: nothing (the marks are not made up again)."""

from django.db import migrations
from django.db.models import F, Q


def drop_checks(apps, schema_editor):
    LegalAct = apps.get_model("legal", "LegalAct")
    incomplete = Q(signed_on=None) | Q(number="") | (Q(title="") & Q(document=""))
    dropped = LegalAct.objects.filter(incomplete, checked_on__isnull=False).update(
        checked_on=None, checked_by=None
    )
    if dropped:
        # update() sends no signal: raise the content version, as regions.caching asks of every
        # write that does not, so no instance keeps a page saying «Проверено».
        ContentVersion = apps.get_model("regions", "ContentVersion")
        ContentVersion.objects.filter(pk=1).update(number=F("number") + 1)


class Migration(migrations.Migration):
    dependencies = [
        ("legal", "0002_in_force_until_and_state_guarantees"),
        ("regions", "0002_content_version"),
    ]

    operations = [migrations.RunPython(drop_checks, migrations.RunPython.noop)]
