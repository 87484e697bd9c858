"""The crm audit trail: one row per state change made by a crm service."""

from __future__ import annotations

from typing import Any

from crm.models import AuditEntry


def audit_record(
    *,
    action: str,
    object_type: str,
    object_id: int | None = None,
    customer_id: int | None = None,
    actor: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write an audit row in the caller's transaction (so it exists iff the change does)."""
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    return AuditEntry.objects.create(
        action=action,
        object_type=object_type,
        object_id=object_id,
        customer_id=customer_id,
        actor_id=actor_id,
        data=data or {},
    )
