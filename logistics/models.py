"""Carriers, transit times, shipments (multi-parcel), tracking, delay alerts, returns (RMA)
and the outbound status webhooks to the store.

Orders and their lines are real foreign keys (logistics sits above orders); stock is only
touched through ``inventory.services``.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backoffice.money import CurrencyField, MoneyField


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class Carrier(models.Model):
    class Kind(models.TextChoices):
        CORREIOS = "correios", "Correios"
        PRIVATE = "private", _("Private carrier")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, help_text=_("Used in the tracking webhook URL.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRIVATE)
    webhook_secret = models.CharField(
        _("tracking webhook secret"), max_length=200, default=_new_secret
    )
    tracking_url_template = models.CharField(
        _("public tracking URL"),
        max_length=300,
        blank=True,
        help_text=_("With {code} where the tracking code goes."),
    )
    api_url_template = models.CharField(
        _("tracking API URL (polling)"),
        max_length=300,
        blank=True,
        help_text=_("JSON endpoint with {code}; empty: this carrier pushes or is imported."),
    )
    api_token = models.CharField(_("tracking API token"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def tracking_url(self, code: str) -> str:
        return self.tracking_url_template.replace("{code}", code) if code else ""


class ShippingMethod(models.Model):
    """A carrier's service (Correios PAC, SEDEX; a private carrier's standard/express)."""

    carrier = models.ForeignKey(
        Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="methods"
    )
    code = models.SlugField(_("code"), max_length=40, help_text=_("e.g. pac, sedex"))
    name = models.CharField(_("name"), max_length=120)
    handling_days = models.PositiveSmallIntegerField(
        _("handling (business days)"),
        default=1,
        help_text=_("Business days between payment and posting."),
    )
    default_transit_days = models.PositiveSmallIntegerField(
        _("transit when no CEP range matches (business days)"), default=10
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")
        ordering = ["carrier__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="shipping_method_unique")
        ]

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.name}"


class TransitTime(models.Model):
    """Business days in transit for a range of destination CEPs (8 digits, inclusive)."""

    method = models.ForeignKey(
        ShippingMethod,
        verbose_name=_("shipping method"),
        on_delete=models.CASCADE,
        related_name="transit_times",
    )
    cep_from = models.CharField(_("CEP from"), max_length=8)
    cep_to = models.CharField(_("CEP to"), max_length=8)
    business_days = models.PositiveSmallIntegerField(_("business days"))

    class Meta:
        verbose_name = _("transit time")
        verbose_name_plural = _("transit times")
        ordering = ["method_id", "cep_from"]
        constraints = [
            models.CheckConstraint(condition=Q(cep_from__lte=F("cep_to")), name="transit_range")
        ]
        indexes = [models.Index(fields=["method", "cep_from", "cep_to"], name="transit_lookup")]

    def __str__(self) -> str:
        return f"{self.cep_from}-{self.cep_to}: {self.business_days}"


class Holiday(models.Model):
    """A non-business day (national holidays; carriers do not deliver)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Shipment(models.Model):
    """Part (or all) of an order leaving one warehouse; one or more parcels."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("shipment status", "To pick")
        PACKED = "packed", pgettext_lazy("shipment status", "Packed")
        SHIPPED = "shipped", pgettext_lazy("shipment status", "Shipped")
        DELIVERED = "delivered", pgettext_lazy("shipment status", "Delivered")
        RETURNED = "returned", pgettext_lazy("shipment status", "Returned to sender")
        CANCELLED = "cancelled", pgettext_lazy("shipment status", "Cancelled")

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="shipments"
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT
    )
    method = models.ForeignKey(
        ShippingMethod,
        verbose_name=_("shipping method"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    wave = models.CharField(_("picking wave"), max_length=40, blank=True, db_index=True)
    promised_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    freight_cost = MoneyField(
        _("freight paid"), help_text=_("What the carrier charged us (finance's margin).")
    )
    is_replacement = models.BooleanField(_("exchange replacement"), default=False)
    return_request = models.ForeignKey(
        "logistics.ReturnRequest",
        verbose_name=_("replaces return"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacement_shipments",
    )
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_tracking_at = models.DateTimeField(_("last tracking scan"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["promised_date"], condition=Q(status="shipped"), name="shipment_in_transit"
            )
        ]

    def __str__(self) -> str:
        return f"S{self.pk}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        ordering = ["shipment_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line_id}"


class Parcel(models.Model):
    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="parcels"
    )
    tracking_code = models.CharField(_("tracking code"), max_length=64)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["shipment_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tracking_code"], name="parcel_tracking_code_unique")
        ]

    def __str__(self) -> str:
        return self.tracking_code


class TrackingEvent(models.Model):
    class Kind(models.TextChoices):
        POSTED = "posted", _("Posted")
        IN_TRANSIT = "in_transit", _("In transit")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        DELIVERED = "delivered", _("Delivered")
        FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
        EXCEPTION = "exception", _("Exception")
        RETURNED = "returned", _("Returned to sender")

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("Carrier webhook")
        CSV = "csv", _("CSV import")
        POLL = "poll", _("Carrier API (polling)")
        MANUAL = "manual", _("Manual")

    parcel = models.ForeignKey(
        Parcel, verbose_name=_("parcel"), on_delete=models.CASCADE, related_name="events"
    )
    code = models.CharField(_("carrier code"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.IN_TRANSIT)
    description = models.CharField(_("description"), max_length=255, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    raw = models.JSONField(_("raw"), default=dict, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "code", "occurred_at"], name="tracking_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class DelayAlert(models.Model):
    class Kind(models.TextChoices):
        PAST_PROMISE = "past_promise", _("Past the promised date")
        STALE_TRACKING = "stale_tracking", _("No tracking scan")

    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    notification_id = models.BigIntegerField(_("customer e-mail"), null=True, blank=True)
    ticket_id = models.BigIntegerField(_("ticket"), null=True, blank=True)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delay alert")
        verbose_name_plural = _("delay alerts")
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "kind"], name="delay_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.kind}"


class ReturnRequest(models.Model):
    """A customer return (RMA): requested, approved with an authorization code, received
    and graded line by line, refunded (or exchanged), closed."""

    class Status(models.TextChoices):
        REQUESTED = "requested", pgettext_lazy("return status", "Requested")
        APPROVED = "approved", pgettext_lazy("return status", "Approved")
        REJECTED = "rejected", pgettext_lazy("return status", "Rejected")
        RECEIVED = "received", pgettext_lazy("return status", "Received")
        REFUNDED = "refunded", pgettext_lazy("return status", "Refunded")
        CLOSED = "closed", pgettext_lazy("return status", "Closed")

    order = models.ForeignKey(
        "orders.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="returns"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    code = models.CharField(_("authorization code"), max_length=20, blank=True)
    is_exchange = models.BooleanField(
        _("exchange"), default=False, help_text=_("Send replacements instead of refunding.")
    )
    note = models.TextField(_("note"), blank=True)
    refund_amount = MoneyField(_("refund amount"))
    currency = CurrencyField()
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("return (RMA)")
        verbose_name_plural = _("returns (RMA)")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code=""), name="return_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.code or f"R{self.pk}"


class ReturnLine(models.Model):
    class Reason(models.TextChoices):
        DEFECTIVE = "defective", _("Defective")
        DAMAGED = "damaged", _("Damaged in transit")
        WRONG_ITEM = "wrong_item", _("Wrong item sent")
        NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
        REGRET = "regret", _("Changed mind (right of withdrawal)")
        OTHER = "other", _("Other")

    class Grading(models.TextChoices):
        RESELL = "resell", _("Resell (back to stock)")
        REFURBISH = "refurbish", _("Refurbish")
        SCRAP = "scrap", _("Scrap")

    return_request = models.ForeignKey(
        ReturnRequest, verbose_name=_("return"), on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", verbose_name=_("order line"), on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    grading = models.CharField(_("grading"), max_length=10, choices=Grading.choices, blank=True)
    received_quantity = models.PositiveIntegerField(_("received quantity"), default=0)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_qty_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="return_line_received_le"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line_id}"


class LogisticsAudit(models.Model):
    """Audit row for every state change made by logistics services (and refused webhooks)."""

    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), null=True, blank=True, on_delete=models.CASCADE
    )
    return_request = models.ForeignKey(
        ReturnRequest, verbose_name=_("return"), null=True, blank=True, on_delete=models.CASCADE
    )
    action = models.CharField(_("action"), max_length=40)
    from_value = models.CharField(_("from"), max_length=40, blank=True)
    to_value = models.CharField(_("to"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("logistics audit entry")
        verbose_name_plural = _("logistics audit log")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_value} → {self.to_value}"


class OutboundWebhook(models.Model):
    """Outbox row: a shipment status change to tell the store, written with the change."""

    class Event(models.TextChoices):
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    channel = models.ForeignKey(
        "orders.Channel", verbose_name=_("channel"), on_delete=models.PROTECT
    )
    shipment = models.ForeignKey(
        Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="webhooks"
    )
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    url = models.URLField(_("URL"))
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbound webhook")
        verbose_name_plural = _("outbound webhooks")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "event"], name="outbound_webhook_once")
        ]
        indexes = [
            models.Index(
                fields=["enqueued_at"], condition=Q(status="pending"), name="outbound_pending"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} S{self.shipment_id} → {self.channel_id}"


class OutboundWebhookAttempt(models.Model):
    webhook = models.ForeignKey(
        OutboundWebhook,
        verbose_name=_("webhook"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["webhook_id", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or '-'} {self.error[:40]}"
