import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from backoffice import roles

pytestmark = pytest.mark.django_db


def _codenames(group_name: str) -> set[tuple[str, str]]:
    group = Group.objects.get(name=group_name)
    rows = group.permissions.values_list("content_type__app_label", "codename")
    return {(str(app), str(codename)) for app, codename in rows}


def test_setup_roles_creates_the_four_staff_groups_and_is_repeatable():
    call_command("setup_roles")
    first = {g: _codenames(g) for g in roles.ROLES}
    call_command("setup_roles")

    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    assert {g: _codenames(g) for g in roles.ROLES} == first


def test_each_role_gets_what_its_job_needs_and_not_more():
    roles.roles_setup()

    warehouse = _codenames(roles.WAREHOUSE)
    assert ("inventory", "change_stocklevel") in warehouse
    assert ("orders", "view_order") in warehouse
    assert not any(app == "finance" for app, _ in warehouse)

    finance = _codenames(roles.FINANCE)
    assert ("orders", "view_order") in finance
    assert ("orders", "delete_order") not in finance
    assert ("inventory", "change_product") not in finance

    service = _codenames(roles.CUSTOMER_SERVICE)
    assert ("crm", "change_customer") in service
    assert ("crm", "delete_customer") not in service
    assert ("inventory", "change_stocklevel") not in service

    manager = _codenames(roles.MANAGER)
    assert ("orders", "delete_order") in manager
    assert ("finance", "view_management_report") in manager
    assert ("finance", "view_management_report") not in warehouse
    assert ("finance", "view_management_report") not in service
    assert ("auth", "change_user") not in manager
