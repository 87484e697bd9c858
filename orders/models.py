"""Channels, inbound webhook deliveries, orders, lines, holds, events, price lists."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from backoffice.money import CurrencyField, MoneyField
from orders.status import Fulfillment, Lifecycle, Payment


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class Channel(models.Model):
    """A store that sends us orders (one Shopify shop, one WooCommerce site, ...)."""

    class Platform(models.TextChoices):
        GENERIC = "generic", _("Generic (Retaguarda format)")
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        NUVEMSHOP = "nuvemshop", "Nuvemshop / Tiendanube"
        VTEX = "vtex", "VTEX"

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, help_text=_("Used in the webhook URL.")
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    webhook_secret = models.CharField(_("webhook secret"), max_length=200, default=_new_secret)
    api_base_url = models.URLField(_("platform API base URL"), blank=True)
    api_token = models.CharField(_("platform API token"), max_length=200, blank=True)
    store_external_id = models.CharField(_("store id on the platform"), max_length=64, blank=True)
    outbound_webhook_url = models.URLField(_("status webhook URL"), blank=True)
    price_list = models.ForeignKey(
        "orders.PriceList",
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """What a platform sent, stored before anything else is done with it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (no action needed)")
        FAILED = "failed", _("Failed")

    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT)
    delivery_id = models.CharField(_("delivery id"), max_length=200)
    topic = models.CharField(_("topic"), max_length=100, blank=True)
    headers = models.JSONField(_("headers"), default=dict)
    body = models.BinaryField(_("raw body"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    errors = models.JSONField(_("errors"), default=list, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "delivery_id"], name="delivery_unique_per_channel"
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="delivery_status_received")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.delivery_id} ({self.topic})"


class WebhookRejection(models.Model):
    """Audit line for a request refused before storage (bad or missing signature)."""

    channel_slug = models.CharField(_("channel"), max_length=50)
    reason = models.CharField(_("reason"), max_length=200)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    body_sha256 = models.CharField(_("body SHA-256"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rejected webhook")
        verbose_name_plural = _("rejected webhooks")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel_slug}: {self.reason}"


class PriceList(models.Model):
    name = models.CharField(_("name"), max_length=120)
    currency = CurrencyField()
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    tolerance_percent = models.DecimalField(
        _("tolerance (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        help_text=_("A line priced below the list by more than this goes on hold."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "inventory.Product", verbose_name=_("product"), on_delete=models.CASCADE
    )
    price = MoneyField(_("price"))

    class Meta:
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_list_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.price}"


class Promotion(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percent off")
        FIXED = "fixed", _("Fixed amount off")

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("coupon code"), max_length=50, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERCENT)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    product = models.ForeignKey(
        "inventory.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")), name="promotion_window"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    channel = models.ForeignKey(Channel, verbose_name=_("channel"), on_delete=models.PROTECT)
    external_id = models.CharField(_("id on the platform"), max_length=64)
    number = models.CharField(_("number"), max_length=64, db_index=True)
    customer = models.ForeignKey(
        "crm.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    email = models.EmailField(_("e-mail"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Lifecycle.choices, default=Lifecycle.NEW
    )
    payment_status = models.CharField(
        _("payment"), max_length=20, choices=Payment.choices, default=Payment.PENDING
    )
    fulfillment_status = models.CharField(
        _("fulfilment"), max_length=20, choices=Fulfillment.choices, default=Fulfillment.UNFULFILLED
    )
    currency = CurrencyField()
    subtotal = MoneyField(_("subtotal"))
    shipping_total = MoneyField(_("shipping"))
    discount_total = MoneyField(_("discounts"))
    tax_total = MoneyField(_("taxes"))
    total = MoneyField(_("total"))
    payment_method = models.CharField(_("payment method"), max_length=50, blank=True)
    installments = models.PositiveSmallIntegerField(_("instalments"), default=1)
    shipping_method = models.CharField(_("shipping method"), max_length=100, blank=True)
    # Shipping address, as the customer gave it for this order.
    ship_name = models.CharField(_("recipient"), max_length=200, blank=True)
    ship_postal_code = models.CharField(_("CEP"), max_length=9, blank=True)
    ship_street = models.CharField(_("street"), max_length=200, blank=True)
    ship_number = models.CharField(_("number"), max_length=20, blank=True)
    ship_complement = models.CharField(_("complement"), max_length=100, blank=True)
    ship_district = models.CharField(_("district"), max_length=100, blank=True)
    ship_city = models.CharField(_("city"), max_length=120, blank=True)
    ship_state = models.CharField(_("state"), max_length=2, blank=True)
    ship_country = models.CharField(_("country"), max_length=2, default="BR")
    utm_source = models.CharField(_("UTM source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("UTM medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("UTM campaign"), max_length=100, blank=True, db_index=True)
    coupon_code = models.CharField(_("coupon"), max_length=50, blank=True)
    note = models.TextField(_("customer note"), blank=True)
    placed_at = models.DateTimeField(_("placed at"))  # indexed with id: order_placed_id
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_unique_per_channel"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            # The list's order (-placed_at, -id), alone and after its two common filters;
            # with the id in the index, a page or a capped count reads only the index.
            models.Index(fields=["-placed_at", "-id"], name="order_placed_id"),
            models.Index(fields=["status", "-placed_at", "-id"], name="order_status_placed_id"),
            models.Index(fields=["channel", "-placed_at", "-id"], name="order_channel_placed_id"),
            # Sales of a period are orders paid in it (finance.selectors.sales_filter): the
            # management report and the daily sales rollup read a day or a month by it.
            models.Index(fields=["paid_at"], name="order_paid_at"),
            # Search (orders.selectors.order_search_filter) compares upper() = upper(term).
            models.Index(Upper("number"), name="order_number_upper"),
            models.Index(Upper("external_id"), name="order_external_id_upper"),
            models.Index(Upper("email"), name="order_email_upper"),
        ]
        permissions = [("clear_hold", _("Can clear order holds"))]

    def __str__(self) -> str:
        return f"#{self.number}"


class OrderLine(models.Model):
    class StockStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        RESERVED = "reserved", _("Reserved")
        BACKORDERED = "backordered", _("Backordered")
        SHIPPED = "shipped", _("Shipped")
        RELEASED = "released", _("Released")
        UNKNOWN_SKU = "unknown_sku", _("Unknown SKU")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    external_id = models.CharField(_("id on the platform"), max_length=64, blank=True)
    product = models.ForeignKey(
        "inventory.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = MoneyField(_("unit price"))
    discount = MoneyField(_("discount"))
    total = MoneyField(_("total"))
    unit_cost = MoneyField(_("unit cost at sale"))
    stock_status = models.CharField(
        _("stock"), max_length=12, choices=StockStatus.choices, default=StockStatus.PENDING
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class OrderHold(models.Model):
    """Why an order waits for a person: one row per reason, cleared by staff."""

    class Reason(models.TextChoices):
        INVALID_DOCUMENT = "invalid_document", _("Invalid CPF/CNPJ")
        INCOMPLETE_ADDRESS = "incomplete_address", _("Incomplete address")
        UNKNOWN_SKU = "unknown_sku", _("Unknown SKU")
        PRICE_MISMATCH = "price_mismatch", _("Price off the price list")
        STOCK_SHORTAGE = "stock_shortage", _("Stock shortage")
        RISK = "risk", _("Risk rule")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="holds"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cleared by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("order hold")
        verbose_name_plural = _("order holds")
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(cleared_at__isnull=True),
                name="hold_open_once",
            )
        ]
        indexes = [
            models.Index(
                fields=["reason"], condition=Q(cleared_at__isnull=True), name="hold_open_reason"
            )
        ]

    def __str__(self) -> str:
        return self.get_reason_display()


class OrderEvent(models.Model):
    """Audit row for every change of an order: who, when, from, to, why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        STATUS = "status", _("Status changed")
        PAYMENT = "payment", _("Payment changed")
        FULFILLMENT = "fulfillment", _("Fulfilment changed")
        HOLD_PLACED = "hold_placed", _("Hold placed")
        HOLD_CLEARED = "hold_cleared", _("Hold cleared")
        STOCK = "stock", _("Stock")
        NOTE = "note", _("Note")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Store webhook")
        ADMIN = "admin", _("Admin")
        API = "api", _("API")
        SYSTEM = "system", _("System")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_value = models.CharField(_("from"), max_length=40, blank=True)
    to_value = models.CharField(_("to"), max_length=40, blank=True)
    message = models.TextField(_("why"), blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.SYSTEM
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order_id", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_value} → {self.to_value}"
