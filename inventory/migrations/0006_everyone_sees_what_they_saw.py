"""Upgrading keeps what existing users saw: before teams, every user saw every account.

Active non-staff users who exist when teams arrive join a team "everyone" granted "*", so
nobody's dashboard goes blank on upgrade; narrow or delete that team to scope them (README
"Access"). Users created afterwards (locally or by single sign-on) belong to no team until
one is given to them. A fresh installation has no users yet and gets no such team.
"""

from django.db import migrations

TEAM = "everyone"


def keep_what_users_saw(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    TeamGrant = apps.get_model("inventory", "TeamGrant")
    users = list(User.objects.filter(is_active=True, is_staff=False, is_superuser=False))
    if not users:
        return
    team, _ = Group.objects.get_or_create(name=TEAM)
    TeamGrant.objects.get_or_create(group=team, pattern="*")
    team.user_set.add(*users)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("inventory", "0005_teamgrant"),
    ]

    operations = [migrations.RunPython(keep_what_users_saw, migrations.RunPython.noop)]
