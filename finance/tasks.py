"""Celery tasks of finance: load by id, call a service, safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from finance.selectors import month_start, parse_month


@shared_task(
    name="finance.receivable_create",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def receivable_create_task(self, order_id: int) -> int | None:
    """Create the receivable of a paid order (idempotent: a second run finds it)."""
    from finance.services import receivable_create_for_order

    receivable = receivable_create_for_order(order_id=order_id)
    return receivable.pk if receivable else None


@shared_task(
    name="finance.receivable_instalments_cancel",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def receivable_instalments_cancel_task(self, order_id: int, reason: str = "") -> int:
    """Cancel the open instalments of a refunded or charged-back order (idempotent)."""
    from finance.services import receivable_instalments_cancel

    return receivable_instalments_cancel(order_id=order_id, reason=reason)


@shared_task(
    name="finance.refund_record",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def refund_record_task(self, order_id: int, amount: str, return_id: int | None = None) -> int:
    from decimal import Decimal

    from finance.services import refund_record

    return refund_record(order_id=order_id, amount=Decimal(amount), return_id=return_id).pk


@shared_task(
    name="finance.management_report_generate",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=300,
    max_retries=3,
)
def management_report_generate_task(self, month: str | None = None, email: bool = False) -> int:
    """Generate the report of ``month`` ("YYYY-MM"; default: the previous month) and,
    with ``email``, send it to the managers. Run by beat on the 1st of each month."""
    from finance.services import management_report_email, management_report_generate

    target = (
        parse_month(month)
        if month
        else month_start(month_start(timezone.localdate()) - timedelta(days=1))
    )
    report = management_report_generate(month=target)
    if email:
        management_report_email(report_id=report.pk)
    return report.pk


@shared_task(
    name="finance.daily_rollup_nightly",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=300,
    max_retries=3,
)
def daily_rollup_nightly_task(self, days: int = 40) -> list[str]:
    """Fill the daily sales rollup: the last ``days`` days missing or stale, and every
    older stale day. Run by beat every night; safe to run twice (a filled day that
    nothing changed since is skipped)."""
    from finance.services import daily_rollup_nightly

    return [f"{day}" for day in daily_rollup_nightly(days=days)]
