"""django-filter sets for the order list (API and order_list selector)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderHold
from orders.status import Fulfillment, Lifecycle, Payment


class OrderFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Lifecycle.choices)
    payment_status = django_filters.MultipleChoiceFilter(choices=Payment.choices)
    fulfillment_status = django_filters.MultipleChoiceFilter(choices=Fulfillment.choices)
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
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__iexact=value.lstrip("#"))
            | Q(external_id=value)
            | Q(email__iexact=value)
            | Q(customer__name__icontains=value)
            | Q(customer__document=value)
        )


def order_filter_hold_reason(queryset: QuerySet[Order], reason: str) -> QuerySet[Order]:
    """Orders with an open hold for ``reason`` (EXISTS, no duplicate rows)."""
    open_holds = OrderHold.objects.filter(cleared_at__isnull=True, reason=reason)
    return queryset.filter(pk__in=open_holds.values("order_id"))
