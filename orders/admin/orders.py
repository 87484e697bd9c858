"""Orders admin: order list, order page, holds, price lists, promotions, channels.

Thin: every change goes through orders.services; errors come back through message_user.
The order page is read-only except for the "clear" tick on open holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import display

from backoffice.errors import ApplicationError
from crm.selectors import communications_for_order
from inventory.models import Reservation
from orders.admin.changelist import SortableOnlyChangeList
from orders.admin.pagination import CappedCountPaginator
from orders.models import (
    Channel,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    PriceList,
    PriceListItem,
    Promotion,
)
from orders.resources import OrderResource, PriceListItemResource
from orders.selectors import open_holds_prefetch, order_hold_reasons, order_search_filter
from orders.services import order_cancel, order_confirm, order_hold_clear
from orders.status import Fulfillment, Lifecycle, Payment

LIFECYCLE_COLORS = {
    Lifecycle.NEW: "info",
    Lifecycle.ON_HOLD: "warning",
    Lifecycle.CONFIRMED: "primary",
    Lifecycle.PROCESSING: "primary",
    Lifecycle.COMPLETED: "success",
    Lifecycle.CANCELLED: "danger",
}
# Every value needs a key here: unfold shows the raw value for keys it cannot find.
PAYMENT_COLORS = {
    Payment.PENDING: "",
    Payment.PAID: "success",
    Payment.AUTHORIZED: "info",
    Payment.FAILED: "danger",
    Payment.CHARGEBACK: "danger",
    Payment.REFUNDED: "warning",
    Payment.PARTIALLY_REFUNDED: "warning",
}
FULFILLMENT_COLORS = {
    Fulfillment.UNFULFILLED: "",
    Fulfillment.SHIPPED: "info",
    Fulfillment.PARTIALLY_SHIPPED: "info",
    Fulfillment.DELIVERED: "success",
    Fulfillment.RETURNED: "warning",
}


def _html_table(css_class: str, headers: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """A read-only table for the order page: one header row, escaped cells."""
    header = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html(
        '<table class="{} w-full text-left"><tr>{}</tr>{}</table>', css_class, header, body
    )


class OpenHoldReasonFilter(admin.SimpleListFilter):
    title = _("open hold")
    parameter_name = "hold_reason"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("any", _("Any reason")), *OrderHold.Reason.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        holds = OrderHold.objects.filter(cleared_at__isnull=True)
        if value != "any":
            holds = holds.filter(reason=value)
        return queryset.filter(pk__in=holds.values("order_id"))


def _can_view_order(request: HttpRequest) -> bool:
    # Lines, holds and the timeline are part of the order page: whoever may see the
    # order sees them, without separate per-model view permissions.
    return request.user.has_perm("orders.view_order") or request.user.has_perm(
        "orders.change_order"
    )


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view_order(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["sku", "name", "quantity", "unit_price", "discount", "total", "stock_status"]
    readonly_fields = fields
    verbose_name_plural = _("lines")


# Event from/to values are status, payment, fulfilment, hold or stock codes: show labels.
EVENT_VALUE_LABELS: dict[str, Any] = {
    **dict(OrderLine.StockStatus.choices),
    **dict(OrderHold.Reason.choices),
    **dict(Fulfillment.choices),
    **dict(Payment.choices),
    **dict(Lifecycle.choices),
}


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "kind", "from_display", "to_display", "message", "source", "actor"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    verbose_name_plural = _("timeline")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")

    @display(description=_("from"))
    def from_display(self, obj: OrderEvent) -> str:
        return str(EVENT_VALUE_LABELS.get(obj.from_value, obj.from_value)) or "—"

    @display(description=_("to"))
    def to_display(self, obj: OrderEvent) -> str:
        return str(EVENT_VALUE_LABELS.get(obj.to_value, obj.to_value)) or "—"


class HoldClearForm(forms.ModelForm):
    clear = forms.BooleanField(label=_("clear"), required=False)
    note = forms.CharField(label=_("note"), required=False, max_length=500)

    class Meta:
        model = OrderHold
        fields: list[str] = []


class HoldFormSet(BaseInlineFormSet):
    def save(self, commit: bool = True) -> list[Any]:
        # Holds change only through order_hold_clear (OrderAdmin.save_formset).
        self.new_objects: list[Any] = []
        self.changed_objects: list[Any] = []
        self.deleted_objects: list[Any] = []
        return []


class OrderHoldInline(TabularInline):
    model = OrderHold
    form = HoldClearForm
    formset = HoldFormSet
    extra = 0
    can_delete = False
    fields = ["reason", "detail", "created_at", "cleared_at", "cleared_by", "clear", "note"]
    readonly_fields = ["reason", "detail", "created_at", "cleared_at", "cleared_by"]
    verbose_name_plural = _("holds")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _can_view_order(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.clear_hold")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_fields(request, obj))
        if not self.has_change_permission(request, obj):
            fields = [f for f in fields if f not in ("clear", "note")]
        return fields


@admin.register(Order)
class OrderAdmin(ExportMixin, ModelAdmin):
    resource_classes = [OrderResource]
    export_form_class = ExportForm
    list_display = [
        "number_display",
        "placed_at",
        "customer",
        "channel",
        "status_display",
        "payment_display",
        "fulfillment_display",
        "total",
        "holds_display",
    ]
    list_select_related = ["channel", "customer"]
    list_filter = [
        "status",
        "payment_status",
        "fulfillment_status",
        "channel",
        OpenHoldReasonFilter,
        "placed_at",
    ]
    search_fields = [
        "=number",
        "=external_id",
        "customer__name",
        "=customer__email",
        "=customer__document",
        "=email",
    ]
    search_help_text = _("Number, platform id, customer name, e-mail or CPF/CNPJ (digits).")
    list_per_page = 50
    # The list must cost the same with 10k and 1M orders (docs/benchmarks.md): no full
    # COUNT(*) (capped paginator, no second unfiltered count), and sorting only by
    # columns an index serves (the default order is -placed_at, -id).
    paginator = CappedCountPaginator
    show_full_result_count = False
    sortable_by = ["number_display", "placed_at", "status_display"]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[SortableOnlyChangeList]:
        return SortableOnlyChangeList  # a hand-typed ?o= cannot sort by another column

    actions = ["confirm_selected", "cancel_selected", "clear_holds_selected"]
    inlines = [OrderLineInline, OrderHoldInline, OrderEventInline]
    readonly_fields = ["reservations_display", "communications_display"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "external_id", "channel"),
                    ("status", "payment_status", "fulfillment_status"),
                    ("customer", "email", "placed_at"),
                    ("subtotal", "shipping_total", "discount_total"),
                    ("tax_total", "total"),
                    ("payment_method", "installments", "paid_at", "cancelled_at"),
                ]
            },
        ),
        (
            _("Shipping"),
            {
                "fields": [
                    ("ship_name", "shipping_method"),
                    ("ship_postal_code", "ship_street", "ship_number", "ship_complement"),
                    ("ship_district", "ship_city", "ship_state", "ship_country"),
                ]
            },
        ),
        (_("Stock reservations"), {"fields": ["reservations_display"]}),
        (_("Customer communications"), {"fields": ["communications_display"]}),
        (
            _("Marketing and notes"),
            {
                "classes": ["collapse"],
                "fields": [("utm_source", "utm_medium", "utm_campaign", "coupon_code"), "note"],
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).prefetch_related(open_holds_prefetch())

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Order._meta.fields] + [
            "reservations_display",
            "communications_display",
        ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        """The fields of ``search_fields``, through one indexed ``id IN (...)`` condition
        (order_search_filter) instead of an OR over joined columns; no duplicates."""
        if not search_term.strip():
            return queryset, False
        return queryset.filter(order_search_filter(search_term)), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        """The order's own fields are read-only here; state changes go through services."""

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save()  # read-only inlines save nothing; HoldFormSet.save is a no-op
        if formset.model is not OrderHold:
            return
        for hold_form in formset.forms:
            data = getattr(hold_form, "cleaned_data", {})
            if not data.get("clear") or hold_form.instance.pk is None:
                continue
            hold = hold_form.instance
            try:
                order_hold_clear(hold_id=hold.pk, actor=request.user, note=data.get("note", ""))
            except ApplicationError as exc:
                self.message_user(
                    request, f"{hold.get_reason_display()}: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    _("Hold cleared: %(reason)s") % {"reason": hold.get_reason_display()},
                    messages.SUCCESS,
                )

    # --- list columns ----------------------------------------------------------------
    @display(description=_("number"), ordering="number")
    def number_display(self, obj: Order) -> str:
        return f"#{obj.number}"

    @display(description=_("status"), ordering="status", label=LIFECYCLE_COLORS)
    def status_display(self, obj: Order) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description=_("payment"), ordering="payment_status", label=PAYMENT_COLORS)
    def payment_display(self, obj: Order) -> tuple[str, str]:
        return obj.payment_status, obj.get_payment_status_display()

    @display(description=_("fulfilment"), ordering="fulfillment_status", label=FULFILLMENT_COLORS)
    def fulfillment_display(self, obj: Order) -> tuple[str, str]:
        return obj.fulfillment_status, obj.get_fulfillment_status_display()

    @display(description=_("open holds"))
    def holds_display(self, obj: Order) -> str:
        labels = dict(OrderHold.Reason.choices)
        return ", ".join(str(labels.get(r, r)) for r in order_hold_reasons(obj)) or "—"

    @display(description=_("reservations"))
    def reservations_display(self, obj: Order) -> str:
        if obj is None or obj.pk is None:
            return "—"
        rows = Reservation.objects.filter(order_id=obj.pk).select_related("product", "warehouse")
        if not rows:
            return str(_("No stock reserved."))
        return _html_table(
            "reservations",
            (_("SKU"), _("warehouse"), _("quantity"), _("shipped"), _("status")),
            (
                (
                    r.product.sku,
                    r.warehouse.name,
                    r.quantity,
                    r.shipped_quantity,
                    r.get_status_display(),
                )
                for r in rows
            ),
        )

    @display(description=_("e-mails to the customer"))
    def communications_display(self, obj: Order) -> str:
        if obj is None or obj.pk is None:
            return "—"
        # The form reads a read-only field more than once: one query per page, not per read.
        rows = getattr(obj, "_communications", None)
        if rows is None:
            rows = list(communications_for_order(order_id=obj.pk))
            setattr(obj, "_communications", rows)  # noqa: B010
        if not rows:
            return str(_("No e-mail sent or queued for this order."))
        return _html_table(
            "communications",
            (_("created at"), _("kind"), _("to"), _("subject"), _("status"), _("sent at")),
            (
                (
                    date_format(localtime(n.created_at), "SHORT_DATETIME_FORMAT"),
                    n.get_kind_display(),
                    n.to_email or "—",
                    n.subject or "—",
                    n.get_status_display(),
                    date_format(localtime(n.sent_at), "SHORT_DATETIME_FORMAT")
                    if n.sent_at
                    else "—",
                )
                for n in rows
            ),
        )

    # --- bulk actions: one service call per order, errors reported per order -----------
    def _bulk(self, request: HttpRequest, queryset: QuerySet[Order], call: Any, done: Any) -> None:
        ok = 0
        for order in queryset.select_related(None).prefetch_related(None).only("id", "number"):
            try:
                call(order)
            except ApplicationError as exc:
                self.message_user(request, f"#{order.number}: {exc.message}", messages.ERROR)
            else:
                ok += 1
        if ok:
            self.message_user(request, done % {"count": ok}, messages.SUCCESS)

    @admin.action(description=_("Confirm selected orders"), permissions=["change"])
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._bulk(
            request,
            queryset,
            lambda o: order_confirm(
                order_id=o.pk, actor=request.user, source=OrderEvent.Source.ADMIN
            ),
            _("%(count)d order(s) confirmed."),
        )

    @admin.action(description=_("Cancel selected orders"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._bulk(
            request,
            queryset,
            lambda o: order_cancel(
                order_id=o.pk,
                actor=request.user,
                reason=str(_("Cancelled from the admin.")),
                source=OrderEvent.Source.ADMIN,
            ),
            _("%(count)d order(s) cancelled."),
        )

    @admin.action(description=_("Clear open holds of selected orders"), permissions=["clear_hold"])
    def clear_holds_selected(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        def clear_all(order: Order) -> None:
            hold_ids = OrderHold.objects.filter(
                order_id=order.pk, cleared_at__isnull=True
            ).values_list("id", flat=True)
            if not hold_ids:
                raise ApplicationError(str(_("No open holds.")))
            for hold_id in hold_ids:
                order_hold_clear(
                    hold_id=hold_id, actor=request.user, source=OrderEvent.Source.ADMIN
                )

        self._bulk(request, queryset, clear_all, _("Holds cleared on %(count)d order(s)."))

    def has_clear_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.clear_hold")


class PriceListItemInline(TabularInline):
    model = PriceListItem
    extra = 1
    raw_id_fields = ["product"]


@admin.register(PriceList)
class PriceListAdmin(ModelAdmin):
    list_display = [
        "name",
        "currency",
        "valid_from",
        "valid_until",
        "tolerance_percent",
        "is_active",
    ]
    list_filter = ["is_active", "currency"]
    search_fields = ["name"]
    inlines = [PriceListItemInline]


@admin.register(PriceListItem)
class PriceListItemAdmin(ImportExportModelAdmin, ModelAdmin):
    """Prices by SKU, for spreadsheet import/export; edit single prices on the list."""

    resource_classes = [PriceListItemResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ["price_list", "product", "price"]
    list_select_related = ["price_list", "product"]
    list_filter = ["price_list"]
    search_fields = ["product__sku", "product__name"]
    raw_id_fields = ["product"]


@admin.register(Promotion)
class PromotionAdmin(ModelAdmin):
    list_display = [
        "name",
        "code",
        "kind",
        "value",
        "product",
        "valid_from",
        "valid_until",
        "is_active",
    ]
    list_select_related = ["product"]
    list_filter = ["is_active", "kind"]
    search_fields = ["name", "code"]
    raw_id_fields = ["product"]


@admin.register(Channel)
class ChannelAdmin(ModelAdmin):
    list_display = ["name", "slug", "platform", "price_list", "is_active", "webhook_url"]
    list_select_related = ["price_list"]
    list_filter = ["platform", "is_active"]
    search_fields = ["name", "slug"]
    readonly_fields = ["webhook_url", "created_at"]
    fields = [
        ("name", "slug", "platform", "is_active"),
        "webhook_url",
        "webhook_secret",
        ("api_base_url", "api_token", "store_external_id"),
        "outbound_webhook_url",
        "price_list",
        "created_at",
    ]

    @display(description=_("webhook URL"))
    def webhook_url(self, obj: Channel) -> str:
        if obj is None or not obj.slug:
            return "—"
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        return base + reverse("webhook-receive", kwargs={"channel_slug": obj.slug})
