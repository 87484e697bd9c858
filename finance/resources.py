"""django-import-export resources: store traffic figures and campaign costs come from
spreadsheets (the store platform's analytics export, the ads account's invoice); the
ledger can be exported for the accountant."""

from __future__ import annotations

from import_export import fields, resources
from import_export.widgets import DateWidget, DecimalWidget, ForeignKeyWidget

from finance.models import CampaignCost, CashAccount, CashEntry, StoreMetrics


class StoreMetricsResource(resources.ModelResource):
    month = fields.Field(attribute="month", column_name="month", widget=DateWidget("%Y-%m-%d"))

    class Meta:
        model = StoreMetrics
        import_id_fields = ["month"]
        fields = ["month", "sessions", "carts", "orders"]
        skip_unchanged = True
        report_skipped = True

    def before_save_instance(self, instance, row, **kwargs):
        # A month is stored as its first day, whatever day the sheet gave.
        instance.month = instance.month.replace(day=1)


class CampaignCostResource(resources.ModelResource):
    class Meta:
        model = CampaignCost
        fields = ["id", "campaign", "date", "amount", "description"]


class CashEntryResource(resources.ModelResource):
    account = fields.Field(
        attribute="account",
        column_name="account",
        widget=ForeignKeyWidget(CashAccount, field="name"),
    )
    amount = fields.Field(attribute="amount", column_name="amount", widget=DecimalWidget())

    class Meta:
        model = CashEntry
        fields = ["id", "created_at", "account", "kind", "amount", "reference", "description"]
        export_order = fields
