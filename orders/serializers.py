"""DRF serializers for the order API (read shapes and action inputs)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import Order, OrderEvent, OrderHold, OrderLine
from orders.selectors import order_hold_reasons


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "product",
            "quantity",
            "unit_price",
            "discount",
            "total",
            "stock_status",
        ]


class OrderHoldSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderHold
        fields = ["id", "reason", "detail", "created_at", "cleared_at"]


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()  # type: ignore[var-annotated]

    class Meta:
        model = OrderEvent
        fields = [
            "id",
            "kind",
            "from_value",
            "to_value",
            "message",
            "source",
            "actor",
            "created_at",
        ]


class OrderListSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[var-annotated]
    customer_name = serializers.SerializerMethodField()
    hold_reasons = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "external_id",
            "channel",
            "customer",
            "customer_name",
            "email",
            "status",
            "payment_status",
            "fulfillment_status",
            "currency",
            "total",
            "placed_at",
            "hold_reasons",
        ]

    def get_customer_name(self, order: Order) -> str:
        return order.customer.name if order.customer else ""

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_hold_reasons(self, order: Order) -> list[str]:
        return order_hold_reasons(order)


class OrderDetailSerializer(OrderListSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    holds = OrderHoldSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta(OrderListSerializer.Meta):
        fields = [
            *OrderListSerializer.Meta.fields,
            "subtotal",
            "shipping_total",
            "discount_total",
            "tax_total",
            "payment_method",
            "installments",
            "shipping_method",
            "ship_name",
            "ship_postal_code",
            "ship_street",
            "ship_number",
            "ship_complement",
            "ship_district",
            "ship_city",
            "ship_state",
            "ship_country",
            "coupon_code",
            "note",
            "paid_at",
            "cancelled_at",
            "lines",
            "holds",
            "events",
        ]


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, label=_("reason")
    )


class OrderConfirmInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, label=_("reason")
    )
