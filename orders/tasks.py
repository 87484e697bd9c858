"""Celery tasks for orders: load by id, call a service, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from orders.services import order_backorders_retry


@shared_task
def order_backorders_retry_task(product_id: int) -> int:
    """Stock of a product grew: reserve backordered lines again (idempotent: lines
    already reserved are skipped)."""
    return order_backorders_retry(product_id=product_id)
