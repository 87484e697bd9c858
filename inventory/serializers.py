"""DRF serializers for the inventory API (read-only)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from inventory.models import Product, StockLevel


class ProductSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.name", default=None, read_only=True)
    on_hand = serializers.IntegerField(source="on_hand_total", read_only=True)
    available = serializers.IntegerField(
        source="available_total",
        read_only=True,
        help_text=_("Units online orders can still reserve (active selling warehouses)."),
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "barcode",
            "price",
            "cost",
            "currency",
            "weight_grams",
            "consumption_days",
            "supplier",
            "is_active",
            "on_hand",
            "available",
            "updated_at",
        ]
        read_only_fields = fields


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(source="available_units", read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "product",
            "sku",
            "warehouse",
            "on_hand",
            "reserved",
            "available",
            "updated_at",
        ]
        read_only_fields = fields
