"""Acts made for a term get their last day (``in_force_until``). The yearly programme of state
guarantees was cited by a code naming its year («state-guarantees-2026»), hard-coded in the
rights page: its successor could not be put in its place by an admin edit. The row keeps its
place under a code without the year, and the end of the term its title states («на 2026 год»)."""

import datetime

from django.db import migrations, models
from django.db.models import F

OLD_SLUG = "state-guarantees-2026"
NEW_SLUG = "state-guarantees"
END_OF_2026 = datetime.date(2026, 12, 31)


def _bump_content_version(apps):
    # update() sends no signal: raise the content version as regions.caching asks of every
    # write that does not, so that no instance keeps pages built from the old code (the
    # historical model, as migrations must; the same statement as bump_content_version()).
    ContentVersion = apps.get_model("regions", "ContentVersion")
    ContentVersion.objects.filter(pk=1).update(number=F("number") + 1)


def rename(apps, schema_editor):
    LegalAct = apps.get_model("legal", "LegalAct")
    if LegalAct.objects.filter(slug=NEW_SLUG).exists():
        return  # someone made one already: theirs stands, and the year's row stays as it is
    if LegalAct.objects.filter(slug=OLD_SLUG).update(slug=NEW_SLUG, in_force_until=END_OF_2026):
        _bump_content_version(apps)


def rename_back(apps, schema_editor):
    # The earlier code cites the year's code: whatever programme the row holds by now, it is
    # the one those pages cite.
    LegalAct = apps.get_model("legal", "LegalAct")
    if LegalAct.objects.filter(slug=OLD_SLUG).exists():
        return
    if LegalAct.objects.filter(slug=NEW_SLUG).update(slug=OLD_SLUG):
        _bump_content_version(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("legal", "0001_initial"),
        ("regions", "0002_content_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="legalact",
            name="in_force_until",
            field=models.DateField(
                blank=True,
                help_text="Только для актов на срок, например программы госгарантий на год: "
                "последний день, когда акт действует. На следующий день сайт предупредит "
                "читателей, что ссылка может быть устаревшей, а здесь появится просьба внести "
                "действующий акт. Для бессрочных актов оставьте пустым.",
                null=True,
                verbose_name="действует по",
            ),
        ),
        migrations.RunPython(rename, rename_back),
    ]
