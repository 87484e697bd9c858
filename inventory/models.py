"""Catalog, warehouses, stock levels and the movement ledger.

Stock invariants live in the database: ``0 <= reserved <= on_hand`` is a CHECK, and
every change of ``on_hand`` or ``reserved`` is one ``StockMovement`` row, so the
ledger sums equal the levels (``manage.py check_stock_ledger`` proves it).
Order lines are referred to by id only: inventory sits below orders.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from backoffice.money import CurrencyField, MoneyField


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200)
    document = models.CharField(_("CNPJ/CPF"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A sellable SKU (each variant is its own product)."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    barcode = models.CharField(_("barcode (EAN/GTIN)"), max_length=32, blank=True, db_index=True)
    cost = MoneyField(_("unit cost"))
    price = MoneyField(_("list price"))
    currency = CurrencyField()
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    consumption_days = models.PositiveIntegerField(
        _("consumption period (days)"),
        null=True,
        blank=True,
        help_text=_("For consumables: how long one unit lasts; drives re-purchase reminders."),
    )
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), null=True, blank=True, on_delete=models.SET_NULL
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="product_cost_not_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"


class Warehouse(models.Model):
    """A place holding stock. A physical store that also sells online is one warehouse
    that both the store counter and the online channels reserve from."""

    class Kind(models.TextChoices):
        DISTRIBUTION = "distribution", _("Distribution centre")
        STORE = "store", _("Physical store")
        THIRD_PARTY = "third_party", _("Third-party (fulfilment)")

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(
        _("kind"), max_length=20, choices=Kind.choices, default=Kind.DISTRIBUTION
    )
    sells_online = models.BooleanField(
        _("sells online"), default=True, help_text=_("Online orders may reserve from here.")
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=10, help_text=_("Lower is tried first when reserving.")
    )
    postal_code = models.CharField(_("CEP"), max_length=9, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["priority", "code"]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="stock_levels"
    )
    warehouse = models.ForeignKey(
        Warehouse,
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        related_name="stock_levels",
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["product_id", "warehouse_id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """Append-only ledger: one row per change of on_hand and/or reserved."""

    class Reason(models.TextChoices):
        RECEIPT = "receipt", pgettext_lazy("stock movement reason", "Receipt")
        ADJUSTMENT = "adjustment", pgettext_lazy("stock movement reason", "Adjustment")
        COUNT = "count", pgettext_lazy("stock movement reason", "Stock count")
        TRANSFER_OUT = "transfer_out", pgettext_lazy("stock movement reason", "Transfer out")
        TRANSFER_IN = "transfer_in", pgettext_lazy("stock movement reason", "Transfer in")
        RESERVE = "reserve", pgettext_lazy("stock movement reason", "Reservation")
        RELEASE = "release", pgettext_lazy("stock movement reason", "Reservation released")
        SHIP = "ship", pgettext_lazy("stock movement reason", "Shipped")
        RETURN = "return", pgettext_lazy("stock movement reason", "Customer return restocked")
        SCRAP = "scrap", pgettext_lazy("stock movement reason", "Scrapped")

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT)
    on_hand_delta = models.IntegerField(_("on hand change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order_id = models.BigIntegerField(_("order id"), null=True, blank=True, db_index=True)
    order_line_id = models.BigIntegerField(_("order line id"), null=True, blank=True, db_index=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["product", "warehouse"], name="movement_product_wh"),
            # Last receipt of a level (finance: stock older than 90 days).
            models.Index(
                fields=["product", "warehouse", "-created_at"],
                condition=Q(on_hand_delta__gt=0),
                name="movement_last_inbound",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.product_id}@{self.warehouse_id} {self.on_hand_delta:+}/{self.reserved_delta:+}"


class Reservation(models.Model):
    """Units of one order line held in one warehouse until shipped or released."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("reservation status", "Active")
        RELEASED = "released", pgettext_lazy("reservation status", "Released")
        CONSUMED = "consumed", pgettext_lazy("reservation status", "Shipped")

    order_id = models.BigIntegerField(_("order id"), db_index=True)
    order_line_id = models.BigIntegerField(_("order line id"))
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"))
    shipped_quantity = models.PositiveIntegerField(_("shipped quantity"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-id"]
        constraints = [
            # One live reservation per order line: a replayed delivery cannot reserve twice.
            models.UniqueConstraint(
                fields=["order_line_id"],
                condition=Q(status="active"),
                name="reservation_one_active_per_line",
            ),
            models.CheckConstraint(
                condition=Q(shipped_quantity__lte=F("quantity")), name="reservation_ship_within_qty"
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.order_line_id}: {self.quantity} × {self.product_id}@{self.warehouse_id}"


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("purchase order status", "Draft")
        ORDERED = "ordered", pgettext_lazy("purchase order status", "Ordered")
        RECEIVED = "received", pgettext_lazy("purchase order status", "Received")
        CANCELLED = "cancelled", pgettext_lazy("purchase order status", "Cancelled")

    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT)
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    expected_at = models.DateField(_("expected at"), null=True, blank=True)
    total = MoneyField(_("total"))
    currency = CurrencyField()
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"PO-{self.pk} {self.supplier}"


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        verbose_name=_("purchase order"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_cost = MoneyField(_("unit cost"))
    received_quantity = models.PositiveIntegerField(_("received quantity"), default=0)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product_id}"
