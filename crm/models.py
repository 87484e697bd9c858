"""Customers and after-sales: the notification outbox, surveys, tickets (SAC), RFM segments
and the audit trail of every state change made here."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Named, so crm.services.customers can write a new customer's history row itself, by
# simple-history's own rules, with one hand-written INSERT on the order hot path.
CUSTOMER_HISTORY = HistoricalRecords()


class Customer(models.Model):
    class DocumentKind(models.TextChoices):
        CPF = "cpf", "CPF"
        CNPJ = "cnpj", "CNPJ"
        OTHER = "other", _("Other / foreign")
        NONE = "", _("None")

    class Language(models.TextChoices):
        PT_BR = "pt-br", _("Portuguese (Brazil)")
        ES = "es", _("Spanish")
        EN = "en", _("English")

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    document = models.CharField(
        _("document (CPF/CNPJ)"), max_length=20, blank=True, help_text=_("Digits only.")
    )
    document_kind = models.CharField(
        _("document kind"), max_length=5, choices=DocumentKind.choices, blank=True
    )
    document_valid = models.BooleanField(_("document valid"), default=False)
    language = models.CharField(
        _("language"), max_length=5, choices=Language.choices, default=Language.PT_BR
    )
    marketing_opt_in = models.BooleanField(_("accepts marketing e-mail"), default=False)
    marketing_opted_out_at = models.DateTimeField(
        _("unsubscribed from marketing at"), null=True, blank=True
    )
    # Last known address (orders keep their own copy).
    postal_code = models.CharField(_("CEP"), max_length=9, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    street_number = models.CharField(_("number"), max_length=20, blank=True)
    complement = models.CharField(_("complement"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    state = models.CharField(_("state"), max_length=2, blank=True)
    country = models.CharField(_("country"), max_length=2, default="BR")
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = CUSTOMER_HISTORY

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        permissions = [("erase_personal_data", _("Can erase personal data (LGPD)"))]
        constraints = [
            models.UniqueConstraint(
                fields=["document"], condition=~Q(document=""), name="customer_document_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """One message to one customer: the transactional outbox row (DESIGN.md).

    Written in the same transaction as the change that causes it; a Celery task sends it
    after commit and a periodic sweep re-enqueues what is still pending. The row is also
    the communication log shown on customer and order pages.
    """

    class Kind(models.TextChoices):
        ORDER_RECEIVED = "order_received", _("Order received")
        PAYMENT_CONFIRMED = "payment_confirmed", _("Payment confirmed")
        SHIPPED = "shipped", _("Shipped")
        DELIVERY_DELAYED = "delivery_delayed", _("Delivery delayed")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        REFUND_ISSUED = "refund_issued", _("Refund issued")
        SURVEY = "survey", _("Satisfaction survey")
        REVIEW_REQUEST = "review_request", _("Review request")
        REPURCHASE_REMINDER = "repurchase_reminder", _("Re-purchase reminder")

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    to_email = models.EmailField(_("to"), blank=True)
    language = models.CharField(
        _("language"), max_length=5, choices=Customer.Language.choices, default="pt-br"
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    order_id = models.BigIntegerField(_("order id"), null=True, blank=True, db_index=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    send_after = models.DateTimeField(_("send after"), null=True, blank=True)
    enqueued_at = models.DateTimeField(_("last enqueued at"), null=True, blank=True)
    # Set while a batch send holds the row (claimed in one UPDATE and committed, sent,
    # then marked): nobody else sends it until then. A worker that died leaves it set;
    # once it passes, the row is free again and the sweep re-enqueues it.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            # The sweep: pending rows that are due and not enqueued recently.
            models.Index(
                fields=["send_after", "enqueued_at"],
                condition=Q(status="pending"),
                name="notification_sweep",
            ),
            models.Index(fields=["customer", "-created_at"], name="notification_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to_email or '-'}"

    @property
    def is_marketing(self) -> bool:
        return self.kind in MARKETING_KINDS


MARKETING_KINDS = frozenset(
    {Notification.Kind.REVIEW_REQUEST, Notification.Kind.REPURCHASE_REMINDER}
)


class SurveyResponse(models.Model):
    """The answer to one survey e-mail (one per survey notification: single use)."""

    notification = models.OneToOneField(
        Notification,
        verbose_name=_("survey e-mail"),
        on_delete=models.PROTECT,
        related_name="survey_response",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    order_id = models.BigIntegerField(_("order id"), null=True, blank=True, db_index=True)
    score = models.PositiveSmallIntegerField(_("score (0-10)"))
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=10), name="survey_score_0_10"),
        ]

    def __str__(self) -> str:
        return f"{self.score}/10"

    @property
    def category(self) -> str:
        if self.score >= 9:
            return "promoter"
        if self.score >= 7:
            return "passive"
        return "detractor"


class Ticket(models.Model):
    """A customer-service case (SAC)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Waiting for customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Source(models.TextChoices):
        SYSTEM = "system", _("System")
        SURVEY = "survey", _("Survey")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        STAFF = "staff", _("Staff")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    order_id = models.BigIntegerField(_("order id"), null=True, blank=True, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    sla_due_at = models.DateTimeField(_("SLA due at"), db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_tickets",
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.SYSTEM
    )
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["sla_due_at", "id"]
        constraints = [
            # One open case per dedupe key; a closed one may be followed by a new one.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~Q(dedupe_key="") & Q(status__in=["open", "pending"]),
                name="ticket_open_dedupe_unique",
            ),
        ]
        indexes = [models.Index(fields=["status", "sla_due_at"], name="ticket_status_sla")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketNote(models.Model):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:60]


class CustomerRFM(models.Model):
    """Recency / frequency / monetary scores (1-5 quintiles), recomputed on a schedule."""

    class Segment(models.TextChoices):
        CHAMPIONS = "champions", _("Champions")
        LOYAL = "loyal", _("Loyal")
        POTENTIAL = "potential", _("Potential loyalists")
        NEW = "new", _("New customers")
        AT_RISK = "at_risk", _("At risk")
        HIBERNATING = "hibernating", _("Hibernating")
        LOST = "lost", _("Lost")

    customer = models.OneToOneField(
        Customer,
        verbose_name=_("customer"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="rfm",
    )
    last_order_at = models.DateTimeField(_("last order at"))
    recency_days = models.PositiveIntegerField(_("days since last order"))
    frequency = models.PositiveIntegerField(_("orders"))
    monetary = models.DecimalField(_("spent"), max_digits=14, decimal_places=2)
    r = models.PositiveSmallIntegerField("R")
    f = models.PositiveSmallIntegerField("F")
    m = models.PositiveSmallIntegerField("M")
    segment = models.CharField(_("segment"), max_length=12, choices=Segment.choices)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("RFM score")
        verbose_name_plural = _("RFM scores")
        ordering = ["-monetary"]
        indexes = [models.Index(fields=["segment"], name="rfm_segment")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.r}{self.f}{self.m} {self.segment}"


class AuditEntry(models.Model):
    """Who changed what in crm, when (tickets, opt-outs, privacy requests, ...)."""

    action = models.CharField(_("action"), max_length=50)
    object_type = models.CharField(_("object type"), max_length=30)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(_("data"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="crm_audit_object")]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"
