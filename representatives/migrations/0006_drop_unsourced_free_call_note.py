"""The shipped fixture said of the hotline «Звонок бесплатный из любого региона России.», which
no source the site keeps backs (tests/test_facts.py). Databases loaded from it keep the note
until someone clears it: this clears exactly that text, and leaves any note staff wrote."""

from django.db import migrations

SHIPPED_NOTE = "Звонок бесплатный из любого региона России."


def clear_note(apps, schema_editor):
    Representative = apps.get_model("representatives", "Representative")
    Representative.objects.filter(notes=SHIPPED_NOTE).update(notes="")


class Migration(migrations.Migration):
    dependencies = [
        ("representatives", "0005_phones_help_text"),
    ]

    operations = [
        migrations.RunPython(clear_note, migrations.RunPython.noop),
    ]
