"""The role «Редакторы содержания»: staff who keep the site's content without being superusers.

Operators give a staff member the role by adding them to the group in «Пользователи»
(README, «Staff roles»). The rights are granted here, once: what an operator changes later in
the group stays.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Редакторы содержания"

# Per model, the rights the role holds. Left out on purpose: adding or deleting regions (pages,
# saved choices and appeals are keyed by them), editing the 89 reference subjects (official
# data), deleting legal acts and provisions (pages cite them), adding or deleting the one
# «Сведения о компании», the content version, and users and groups.
RIGHTS = {
    ("regions", "region"): ("view", "change"),
    ("regions", "subject"): ("view",),
    ("regions", "registryfile"): ("view", "add", "change", "delete"),
    ("representatives", "representative"): ("view", "add", "change", "delete"),
    ("representatives", "receptionhours"): ("view", "add", "change", "delete"),
    ("legal", "legalact"): ("view", "add", "change"),
    ("legal", "legalprovision"): ("view", "add", "change"),
    ("company", "company"): ("view", "change"),
}


def create_group(apps, schema_editor):
    # Django creates permissions after all migrations have run (post_migrate): on a new
    # database they do not exist yet, so they are created here first.
    # A migration's app configs have no models module, and create_permissions skips those.
    for app_config in apps.get_app_configs():
        kept = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = kept
    Permission = apps.get_model("auth", "Permission")
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP_NAME)
    for (app_label, model), actions in RIGHTS.items():
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                codename__in=[f"{action}_{model}" for action in actions],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("regions", "0008_health_source"),
        ("representatives", "0006_drop_unsourced_free_call_note"),
        ("legal", "0001_initial"),
        ("company", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
