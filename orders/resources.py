"""django-import-export resources: orders out (spreadsheet), price list items in and out."""

from __future__ import annotations

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from inventory.models import Product
from orders.models import Order, PriceList, PriceListItem


class OrderResource(resources.ModelResource):
    """Export only: orders are created by ingest, never by spreadsheet."""

    channel = fields.Field(attribute="channel__name", column_name="channel")
    customer = fields.Field(attribute="customer__name", column_name="customer")
    document = fields.Field(attribute="customer__document", column_name="document")

    class Meta:
        model = Order
        fields = (
            "id",
            "number",
            "external_id",
            "channel",
            "customer",
            "document",
            "email",
            "status",
            "payment_status",
            "fulfillment_status",
            "currency",
            "subtotal",
            "shipping_total",
            "discount_total",
            "total",
            "payment_method",
            "ship_city",
            "ship_state",
            "utm_source",
            "utm_campaign",
            "placed_at",
            "paid_at",
        )
        export_order = fields

    def get_export_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_export_queryset(request).select_related("channel", "customer")


class PriceListItemResource(resources.ModelResource):
    """Rows of (price list name, SKU, price); re-importing updates prices in place."""

    price_list = fields.Field(
        attribute="price_list",
        column_name="price_list",
        widget=ForeignKeyWidget(PriceList, field="name"),
    )
    product = fields.Field(
        attribute="product", column_name="sku", widget=ForeignKeyWidget(Product, field="sku")
    )

    class Meta:
        model = PriceListItem
        fields = ("price_list", "product", "price")
        import_id_fields = ("price_list", "product")
        skip_unchanged = True
        report_skipped = False
