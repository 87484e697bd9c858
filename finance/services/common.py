from __future__ import annotations

from typing import Any

from finance.models import FinanceEvent


def audit(
    *,
    obj: Any,
    action: str,
    from_value: str = "",
    to_value: str = "",
    actor: Any = None,
    message: str = "",
) -> FinanceEvent:
    """Write the audit row of a state change (in the caller's transaction)."""
    return FinanceEvent.objects.create(
        object_type=type(obj).__name__.lower(),
        object_id=obj.pk,
        action=action,
        from_value=from_value,
        to_value=to_value,
        actor=actor if getattr(actor, "pk", None) else None,
        message=message,
    )
