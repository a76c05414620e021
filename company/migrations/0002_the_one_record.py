"""The one «Сведения о компании» record, empty, so that staff change it rather than add it.

The role «Редакторы содержания» (regions/migrations/0009) may change the record but not add it
(there is only one): on a new site, where nobody had added it yet, the admin start page's
«Заполните сведения о компании» led editors to a bare 403. An empty record shows nothing on
the site (what is empty is not shown), so no cached page needs dropping. Backwards: nothing
(the record may hold staff's data by then).
"""

from django.db import migrations

PK = 1  # Company.PK


def create_record(apps, schema_editor):
    apps.get_model("company", "Company").objects.get_or_create(pk=PK)


class Migration(migrations.Migration):
    dependencies = [("company", "0001_initial")]

    operations = [migrations.RunPython(create_record, migrations.RunPython.noop)]
