"""django-import-export resources (export only)."""

from __future__ import annotations

from import_export import fields, resources

from crm.models import CustomerRFM


class CustomerRFMResource(resources.ModelResource):
    name = fields.Field(attribute="customer__name", column_name="name")
    email = fields.Field(attribute="customer__email", column_name="email")
    phone = fields.Field(attribute="customer__phone", column_name="phone")
    language = fields.Field(attribute="customer__language", column_name="language")

    class Meta:
        model = CustomerRFM
        fields = (
            "customer",
            "name",
            "email",
            "phone",
            "language",
            "segment",
            "r",
            "f",
            "m",
            "recency_days",
            "frequency",
            "monetary",
            "last_order_at",
        )
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("customer")
