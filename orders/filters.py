"""django-filter sets for the order list (API and order_list selector)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderHold
from orders.selectors import order_search_filter
from orders.status import Fulfillment, Lifecycle, Payment


class OrderFilter(django_filters.FilterSet):
    # distinct=False: a column of the order itself cannot duplicate rows, and DISTINCT
    # would make PostgreSQL read and sort every match before it can return one page.
    status = django_filters.MultipleChoiceFilter(choices=Lifecycle.choices, distinct=False)
    payment_status = django_filters.MultipleChoiceFilter(choices=Payment.choices, distinct=False)
    fulfillment_status = django_filters.MultipleChoiceFilter(
        choices=Fulfillment.choices, distinct=False
    )
    channel = django_filters.CharFilter(field_name="channel__slug", label=_("channel (slug)"))
    placed_after = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = django_filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    hold_reason = django_filters.ChoiceFilter(
        choices=OrderHold.Reason.choices, method="filter_hold_reason", label=_("open hold reason")
    )
    search = django_filters.CharFilter(method="filter_search", label=_("search"))

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_hold_reason(
        self, queryset: QuerySet[Order], name: str, value: str
    ) -> QuerySet[Order]:
        return order_filter_hold_reason(queryset, value)

    def filter_search(self, queryset: QuerySet[Order], name: str, value: str) -> QuerySet[Order]:
        return queryset.filter(order_search_filter(value))


def order_filter_hold_reason(queryset: QuerySet[Order], reason: str) -> QuerySet[Order]:
    """Orders with an open hold for ``reason`` (EXISTS, no duplicate rows)."""
    open_holds = OrderHold.objects.filter(cleared_at__isnull=True, reason=reason)
    return queryset.filter(pk__in=open_holds.values("order_id"))
