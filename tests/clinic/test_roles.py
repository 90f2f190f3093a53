"""The staff roles are code (clinic/roles.py): every migrate, and `manage.py sync_roles`, leave
each group holding exactly the permissions named there, and no migration grants any."""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from clinic.roles import PRACTITIONER_GROUP, RECEPTION_GROUP, ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def held(name: str) -> set[tuple[str, str]]:
    group = Group.objects.get(name=name)
    return set(group.permissions.values_list("content_type__app_label", "codename"))


def named(name: str) -> set[tuple[str, str]]:
    return {(label, codename) for label, codenames in ROLE_PERMISSIONS[name].items() for codename in codenames}


def test_after_migrate_each_group_holds_exactly_its_roles_permissions():
    assert held(RECEPTION_GROUP) == named(RECEPTION_GROUP)
    assert len(named(RECEPTION_GROUP)) == 49
    assert held(PRACTITIONER_GROUP) == set()


def test_sync_roles_gives_back_what_was_taken_and_takes_away_what_was_added():
    reception = Group.objects.get(name=RECEPTION_GROUP)
    reception.permissions.remove(Permission.objects.get(codename="change_appointment"))
    reception.permissions.add(Permission.objects.get(codename="anonymise_patient"))
    out = StringIO()
    call_command("sync_roles", stdout=out)
    assert "Reception: granted booking.change_appointment" in out.getvalue()
    assert "Reception: took away patients.anonymise_patient" in out.getvalue()
    assert held(RECEPTION_GROUP) == named(RECEPTION_GROUP)
    out = StringIO()
    call_command("sync_roles", stdout=out)
    assert out.getvalue().strip() == "0 change(s): the roles match clinic/roles.py."


def test_a_deleted_group_comes_back():
    Group.objects.filter(name=PRACTITIONER_GROUP).delete()
    call_command("sync_roles", stdout=StringIO())
    assert Group.objects.filter(name=PRACTITIONER_GROUP).exists()


def test_no_migration_grants_a_permission():
    migrations = [path for path in ROOT.glob("*/migrations/*.py") if ".venv" not in path.parts]
    assert len(migrations) > 30
    granting = [str(path.relative_to(ROOT)) for path in migrations if "permissions.add(" in path.read_text()]
    assert not granting
