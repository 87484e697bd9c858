"""django-import-export resources: the product catalog, and stock counts.

A stock count row never writes a level directly: it calls ``stock_adjust`` with the
counted quantity, so the ledger records it and a count below what is reserved is
refused row by row."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, IntegerWidget

from backoffice.errors import ApplicationError
from inventory.models import Product, StockLevel, Supplier, Warehouse
from inventory.services import stock_adjust


class ProductResource(resources.ModelResource):
    supplier = fields.Field(
        attribute="supplier",
        column_name="supplier",
        widget=ForeignKeyWidget(Supplier, field="name"),
    )

    class Meta:
        model = Product
        import_id_fields = ("sku",)
        fields = (
            "sku",
            "name",
            "description",
            "barcode",
            "cost",
            "price",
            "currency",
            "weight_grams",
            "consumption_days",
            "supplier",
            "is_active",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = False

    def get_export_queryset(self, request: Any) -> Any:
        return Product.objects.select_related("supplier").order_by("sku")


class StockCountResource(resources.ModelResource):
    """Columns: sku, warehouse (code), on_hand (the counted units). Exported files also
    carry reserved and available, which an import ignores."""

    sku = fields.Field(
        attribute="product", column_name="sku", widget=ForeignKeyWidget(Product, field="sku")
    )
    warehouse = fields.Field(
        attribute="warehouse",
        column_name="warehouse",
        widget=ForeignKeyWidget(Warehouse, field="code"),
    )
    on_hand = fields.Field(attribute="on_hand", column_name="on_hand", widget=IntegerWidget())
    reserved = fields.Field(
        attribute="reserved", column_name="reserved", widget=IntegerWidget(), readonly=True
    )
    available = fields.Field(
        attribute="available", column_name="available", widget=IntegerWidget(), readonly=True
    )

    class Meta:
        model = StockLevel
        import_id_fields = ("sku", "warehouse")
        fields = ("sku", "warehouse", "on_hand", "reserved", "available")
        export_order = fields

    def get_export_queryset(self, request: Any) -> Any:
        return StockLevel.objects.select_related("product", "warehouse").order_by(
            "product__sku", "warehouse__code"
        )

    def save_instance(self, instance: StockLevel, is_create: bool, row: Any, **kwargs: Any) -> None:
        counted = instance.on_hand
        if counted is None:
            raise ValidationError({"on_hand": _("Give the counted units.")})
        try:
            stock_adjust(
                product_id=instance.product_id,
                warehouse_id=instance.warehouse_id,
                new_on_hand=counted,
                actor=kwargs.get("user"),
                note=_("stock count import"),
            )
        except ApplicationError as exc:
            raise ValidationError({"on_hand": exc.message}) from exc
