"""Admin for orders, split by concern: orders.py (orders, holds, price lists, channels)
and webhooks.py (deliveries, rejections, replay)."""

from orders.admin import orders, webhooks  # noqa: F401
