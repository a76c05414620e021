from django.db import migrations

GROUP_NAME = "Обращения"


def create_group(apps, schema_editor):
    # Admin shows appeals to the members of this group only (appeals/admin.py); staff add people
    # to it in «Пользователи».
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
