"""Cash accounts and their ledger, receivables, payables, payout reconciliation, goals,
campaign costs, fiscal documents, store metrics and the monthly management report.

The ledger is append-only: an account's balance is ``SUM(amount)`` of its entries, computed
in SQL; nothing ever updates or deletes a ``CashEntry`` (corrections are new entries).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backoffice.money import CurrencyField, MoneyField


class CashAccount(models.Model):
    class Kind(models.TextChoices):
        BANK = "bank", _("Bank account")
        GATEWAY = "gateway", _("Payment gateway balance")
        PETTY_CASH = "petty_cash", _("Petty cash")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.BANK)
    currency = CurrencyField()
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cash account")
        verbose_name_plural = _("cash accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class CashEntry(models.Model):
    """One movement of money in one account (+ in, - out). Never updated."""

    class Kind(models.TextChoices):
        OPENING = "opening", _("Opening balance")
        RECEIPT = "receipt", _("Customer receipt")
        PAYMENT = "payment", _("Supplier payment")
        REFUND = "refund", _("Customer refund")
        FEE = "fee", _("Fee")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        ADJUSTMENT = "adjustment", _("Adjustment")

    account = models.ForeignKey(
        CashAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = MoneyField(_("amount"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=120, blank=True, db_index=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    transfer_id = models.UUIDField(_("transfer"), null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("cash entry")
        verbose_name_plural = _("cash ledger")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="cash_entry_not_zero")]
        indexes = [
            models.Index(fields=["account", "created_at"], name="cash_entry_account_created")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount:+} {self.kind}"


class Receivable(models.Model):
    """What the payment gateway owes us for one paid order."""

    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="receivable",
    )
    payment_method = models.CharField(_("payment method"), max_length=30)
    instalment_count = models.PositiveSmallIntegerField(_("instalments"), default=1)
    gross = MoneyField(_("gross amount"))
    fee = MoneyField(_("gateway fee"))
    net = MoneyField(_("net amount"))
    currency = CurrencyField()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.net}"


class Instalment(models.Model):
    """One parcela of a receivable, due on its own date."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    receivable = models.ForeignKey(
        Receivable,
        verbose_name=_("receivable"),
        on_delete=models.CASCADE,
        related_name="instalments",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"), db_index=True)
    gross = MoneyField(_("gross amount"))
    fee = MoneyField(_("gateway fee"))
    net = MoneyField(_("net amount"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    paid_at = models.DateTimeField(_("received at"), null=True, blank=True)
    cash_entry = models.OneToOneField(
        CashEntry,
        verbose_name=_("cash entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instalment",
    )

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receivable", "number"], name="instalment_unique_number"
            )
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="instalment_status_due")]

    def __str__(self) -> str:
        return f"{self.receivable_id} #{self.number} {self.due_date}"


class Payable(models.Model):
    """A supplier bill or a purchase order to pay."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    supplier = models.ForeignKey(
        "inventory.Supplier",
        verbose_name=_("supplier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    purchase_order = models.OneToOneField(
        "inventory.PurchaseOrder",
        verbose_name=_("purchase order"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payable",
    )
    description = models.CharField(_("description"), max_length=255)
    document_number = models.CharField(_("bill number"), max_length=60, blank=True)
    amount = MoneyField(_("amount"))
    currency = CurrencyField()
    due_date = models.DateField(_("due date"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cash_entry = models.OneToOneField(
        CashEntry,
        verbose_name=_("cash entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payable",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payable")
        verbose_name_plural = _("payables")
        ordering = ["due_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payable_amount_positive")
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="payable_status_due")]

    def __str__(self) -> str:
        return f"{self.description} ({self.amount})"


class Refund(models.Model):
    """Money given back to a customer for an order (from a return or by hand)."""

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="+"
    )
    return_id = models.BigIntegerField(_("return id"), null=True, blank=True, unique=True)
    amount = MoneyField(_("amount"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.amount}"


class FinanceEvent(models.Model):
    """Audit row for every state change of a finance object: who, when, from, to, why."""

    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.BigIntegerField(_("object id"))
    action = models.CharField(_("action"), max_length=30)
    from_value = models.CharField(_("from"), max_length=30, blank=True)
    to_value = models.CharField(_("to"), max_length=30, blank=True)
    message = models.TextField(_("why"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("finance event")
        verbose_name_plural = _("finance events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="finance_event_object")]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.action}"


class PayoutImport(models.Model):
    """One gateway payout file as imported."""

    account = models.ForeignKey(
        CashAccount, verbose_name=_("credited account"), on_delete=models.PROTECT
    )
    file_name = models.CharField(_("file name"), max_length=255)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_matched = models.PositiveIntegerField(_("matched"), default=0)
    rows_unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    errors = models.JSONField(_("bad rows"), default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payout import")
        verbose_name_plural = _("payout imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.file_name


class PayoutLine(models.Model):
    class Status(models.TextChoices):
        MATCHED = "matched", _("Matched")
        UNMATCHED = "unmatched", _("Unmatched")

    payout_import = models.ForeignKey(
        PayoutImport, verbose_name=_("import"), on_delete=models.CASCADE, related_name="lines"
    )
    row_number = models.PositiveIntegerField(_("row"))
    date = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=120, db_index=True)
    gross = MoneyField(_("gross amount"))
    fee = MoneyField(_("fee"))
    net = MoneyField(_("net amount"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UNMATCHED
    )
    reason = models.CharField(_("why unmatched"), max_length=255, blank=True)
    instalment = models.OneToOneField(
        Instalment,
        verbose_name=_("instalment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payout_line",
    )

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["payout_import_id", "row_number"]

    def __str__(self) -> str:
        return f"{self.reference} {self.net}"


class MonthlyGoal(models.Model):
    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    revenue_goal = MoneyField(_("revenue goal"))

    class Meta:
        verbose_name = _("monthly goal")
        verbose_name_plural = _("monthly goals")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.revenue_goal}"


class CampaignCost(models.Model):
    """Money spent on a marketing campaign (matched to Order.utm_campaign)."""

    campaign = models.CharField(_("campaign (utm_campaign)"), max_length=100, db_index=True)
    date = models.DateField(_("date"))
    amount = MoneyField(_("amount"))
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("campaign cost")
        verbose_name_plural = _("campaign costs")
        ordering = ["-date", "campaign"]

    def __str__(self) -> str:
        return f"{self.campaign} {self.date}: {self.amount}"


class RollupDay(models.Model):
    """One day (in ``TIME_ZONE``) whose figures are rolled up (:class:`SalesRollup`,
    :class:`SkuSalesRollup`, :class:`CashRollup`, :class:`InstalmentRollup`,
    :class:`DeliveryRollup`), and whether those rows still hold.

    ``starts_at``/``ends_at`` are the day's bounds in UTC: the PostgreSQL triggers of
    migration 0002 find the day of a changed order by its ``paid_at`` (of a cash entry by
    its ``created_at``, of a shipment by its ``delivered_at``) between them, of an
    instalment by its due date, and set ``stale``. A stale, missing or other-time-zone day is never read from the rollup
    (see ``finance.selectors.rollup_days``)."""

    day = models.DateField(_("day"), primary_key=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    stale = models.BooleanField(_("stale"), default=True)
    filled_at = models.DateTimeField(_("filled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup day")
        verbose_name_plural = _("rollup days")
        ordering = ["-day"]
        indexes = [models.Index(fields=["starts_at"], name="rollup_day_starts_at")]

    def __str__(self) -> str:
        return f"{self.day}"


class SalesRollup(models.Model):
    """Sales and margin parts of one day (by ``Order.paid_at``) per channel and
    utm_campaign: what ``finance.selectors.margin_groups`` sums, day by day."""

    day = models.DateField(_("day"))
    channel_id = models.BigIntegerField(_("channel"))
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    revenue = MoneyField(_("revenue"))
    subtotal = MoneyField(_("subtotal"))
    shipping = MoneyField(_("shipping"))
    discounts = MoneyField(_("discounts"))
    fees = MoneyField(_("gateway fees"))
    cogs = MoneyField(_("cost of goods"))
    freight = MoneyField(_("freight"))
    refunds = MoneyField(_("refunds"))

    class Meta:
        verbose_name = _("daily sales rollup")
        verbose_name_plural = _("daily sales rollups")
        ordering = ["day", "channel_id", "utm_campaign"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel_id", "utm_campaign"], name="sales_rollup_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} {self.utm_campaign}"


class SkuSalesRollup(models.Model):
    """Units, line totals and cost of goods of one day's sales per SKU (and product)."""

    day = models.DateField(_("day"))
    sku = models.CharField(_("SKU"), max_length=64)
    product_id = models.BigIntegerField(_("product"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=255)
    units = models.PositiveIntegerField(_("units"), default=0)
    revenue = MoneyField(_("revenue"))
    cogs = MoneyField(_("cost of goods"))

    class Meta:
        verbose_name = _("daily SKU sales rollup")
        verbose_name_plural = _("daily SKU sales rollups")
        ordering = ["day", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["day", "sku", "product_id"], name="sku_rollup_unique")
        ]
        indexes = [models.Index(fields=["product_id", "day"], name="sku_rollup_product_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.sku}"


class CashRollup(models.Model):
    """Money in and out of one account on one day (by ``CashEntry.created_at``), per
    kind of entry: what the cash balances and the actual cash flow sum, day by day."""

    day = models.DateField(_("day"))
    account_id = models.BigIntegerField(_("account"))
    kind = models.CharField(_("kind"), max_length=20)
    inflow = MoneyField(_("in"))
    outflow = MoneyField(_("out"))

    class Meta:
        verbose_name = _("daily cash rollup")
        verbose_name_plural = _("daily cash rollups")
        ordering = ["day", "account_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["day", "account_id", "kind"], name="cash_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.account_id} {self.kind}"


class InstalmentRollup(models.Model):
    """The net amount of the instalments due on one day, per status: what the
    receivables summary and the projected cash flow sum, day by day."""

    day = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10)
    net = MoneyField(_("net amount"))

    class Meta:
        verbose_name = _("daily instalment rollup")
        verbose_name_plural = _("daily instalment rollups")
        ordering = ["day", "status"]
        constraints = [
            models.UniqueConstraint(fields=["day", "status"], name="instalment_rollup_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status}"


class DeliveryRollup(models.Model):
    """Shipments delivered on one day (by ``Shipment.delivered_at``) that had a promised
    date, and how many of them arrived by it: the report's on-time rate, day by day."""

    day = models.DateField(_("day"), unique=True)
    delivered = models.PositiveIntegerField(_("delivered"), default=0)
    on_time = models.PositiveIntegerField(_("on time"), default=0)

    class Meta:
        verbose_name = _("daily delivery rollup")
        verbose_name_plural = _("daily delivery rollups")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}"


class StoreMetrics(models.Model):
    """Traffic the store platform reports for a month (entered by hand or imported)."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    carts = models.PositiveIntegerField(_("carts created"), default=0)
    orders = models.PositiveIntegerField(_("orders placed"), default=0)

    class Meta:
        verbose_name = _("store metrics")
        verbose_name_plural = _("store metrics")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class FiscalSeries(models.Model):
    """Number sequence of one NF-e series; locked while a number is taken."""

    series = models.PositiveSmallIntegerField(_("series"), unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("fiscal series")
        verbose_name_plural = _("fiscal series")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class FiscalDocument(models.Model):
    class Status(models.TextChoices):
        # A locally generated document was never sent to SEFAZ: it has no fiscal value.
        LOCAL = "local", _("Generated locally (not authorized)")
        AUTHORIZED = "authorized", _("Authorized")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    order = models.OneToOneField(
        "orders.Order",
        verbose_name=_("order"),
        on_delete=models.PROTECT,
        related_name="fiscal_document",
    )
    access_key = models.CharField(_("access key"), max_length=44, unique=True)
    number = models.PositiveIntegerField(_("number"))
    series = models.PositiveSmallIntegerField(_("series"))
    xml = models.TextField(_("XML"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    provider = models.CharField(_("emission provider"), max_length=60)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("fiscal document")
        verbose_name_plural = _("fiscal documents")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="fiscal_series_number"),
        ]

    def __str__(self) -> str:
        return f"NF-e {self.series}/{self.number}"


class ManagementReport(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("PDF"), upload_to="reports/", blank=True)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("management report")
        verbose_name_plural = _("management reports")
        ordering = ["-month"]
        permissions = [("view_management_report", _("Can download the management report"))]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
