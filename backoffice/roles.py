"""Staff roles: which Django permissions each group gets.

Rules are per app (every model in it) or per model, with the actions allowed, and
are resolved against the models that exist when ``setup_roles`` runs, so a new model
in an app is covered by running the command again (``make run`` and the container
entrypoint do). Extra custom permissions are named by codename.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

ALL = ("view", "add", "change", "delete")
VIEW = ("view",)
EDIT = ("view", "add", "change")

WAREHOUSE = "Warehouse"
FINANCE = "Finance"
CUSTOMER_SERVICE = "Customer service"
MANAGER = "Manager"

# group -> {"app" or "app.model": actions}; extra custom codenames in EXTRA.
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    WAREHOUSE: {
        "inventory": ALL,
        "logistics": ALL,
        "orders.order": ("view", "change"),
        "orders.orderline": VIEW,
        "orders.orderevent": VIEW,
        "orders.orderhold": ("view", "change"),
        "crm.customer": VIEW,
    },
    FINANCE: {
        "finance": ALL,
        "orders": VIEW,
        "orders.order": ("view", "change"),
        "inventory": VIEW,
        "crm.customer": VIEW,
        "logistics": VIEW,
    },
    CUSTOMER_SERVICE: {
        "crm": EDIT,
        "orders": VIEW,
        "orders.order": ("view", "change"),
        "orders.orderhold": ("view", "change"),
        "logistics": VIEW,
        "logistics.returnrequest": EDIT,
        "logistics.returnline": EDIT,
        "inventory.product": VIEW,
    },
    MANAGER: {
        "inventory": ALL,
        "orders": ALL,
        "crm": ALL,
        "logistics": ALL,
        "finance": ALL,
        "django_celery_beat": VIEW,
        "auth.user": VIEW,
        # Locked-out logins (django-axes): see them, and delete one to unlock early.
        "axes.accessattempt": ("view", "delete"),
        "axes.accesslog": VIEW,
    },
}
EXTRA: dict[str, list[str]] = {
    MANAGER: ["finance.view_management_report", "orders.clear_hold", "crm.erase_personal_data"],
    FINANCE: ["finance.view_management_report"],
    CUSTOMER_SERVICE: ["orders.clear_hold"],
}


def _permissions_for(rules: dict[str, tuple[str, ...]]) -> set[Permission]:
    perms: set[Permission] = set()
    for target, actions in rules.items():
        app_label, _, model = target.partition(".")
        cts = ContentType.objects.filter(app_label=app_label)
        if model:
            cts = cts.filter(model=model)
        codenames = [f"{action}_{ct.model}" for ct in cts for action in actions]
        perms.update(Permission.objects.filter(content_type__in=cts, codename__in=codenames))
    return perms


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or refresh the staff groups; returns the number of permissions per group.
    Running it again is safe and brings groups in line with ``ROLES``."""
    result = {}
    for name, rules in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = _permissions_for(rules)
        for dotted in EXTRA.get(name, []):
            app_label, codename = dotted.split(".")
            perms.update(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(perms)
        result[name] = len(perms)
    return result
