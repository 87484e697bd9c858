"""Logistics admin: carriers and transit tables, shipments (pick lists, packing slips, pack
check, ship), tracking (CSV import), delay alerts, returns, store webhooks, scorecard.

Thin: every change goes through logistics.services; errors come back as messages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display

from backoffice.errors import ApplicationError
from logistics import services
from logistics.models import (
    Carrier,
    DelayAlert,
    Holiday,
    LogisticsAudit,
    OutboundWebhook,
    OutboundWebhookAttempt,
    Parcel,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    ShippingMethod,
    TrackingEvent,
    TransitTime,
)
from logistics.resources import TrackingEventResource
from logistics.selectors import carrier_scorecard
from orders.models import Order, OrderLine


def _error_text(exc: ApplicationError) -> str:
    detail = "; ".join(f"{e.get('field') or '—'}: {e.get('message')}" for e in exc.errors[:5])
    return f"{exc.message} {detail}".strip()


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- carriers --------------------------------------------------------------------------


class ShippingMethodInline(TabularInline):
    model = ShippingMethod
    extra = 0
    fields = ["code", "name", "handling_days", "default_transit_days", "is_active"]
    show_change_link = True


@admin.register(Carrier)
class CarrierAdmin(ModelAdmin):
    list_display = ["name", "slug", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ShippingMethodInline]


class TransitTimeInline(TabularInline):
    model = TransitTime
    extra = 1
    fields = ["cep_from", "cep_to", "business_days"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ModelAdmin):
    list_display = ["__str__", "code", "handling_days", "default_transit_days", "is_active"]
    list_filter = ["carrier", "is_active"]
    list_select_related = ["carrier"]
    search_fields = ["name", "code", "carrier__name"]
    inlines = [TransitTimeInline]


@admin.register(Holiday)
class HolidayAdmin(ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


# --- shipments -------------------------------------------------------------------------


class ShipmentLineInline(ReadOnlyInline):
    model = ShipmentLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShipmentLine]:
        return super().get_queryset(request).select_related("order_line")


class ParcelInline(ReadOnlyInline):
    model = Parcel
    fields = ["tracking_code", "weight_grams", "created_at"]
    readonly_fields = fields


class AuditInline(ReadOnlyInline):
    model = LogisticsAudit
    fk_name = "shipment"
    fields = ["created_at", "action", "from_value", "to_value", "message", "actor"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[LogisticsAudit]:
        return super().get_queryset(request).select_related("actor")


STATUS_COLORS = {
    "draft": "info",
    "packed": "info",
    "shipped": "warning",
    "delivered": "success",
    "returned": "danger",
    "cancelled": "danger",
}


@admin.register(Shipment)
class ShipmentAdmin(ModelAdmin):
    list_display = [
        "id",
        "order_link",
        "warehouse",
        "method",
        "status_badge",
        "wave",
        "parcel_count",
        "promised_date",
        "shipped_at",
        "delivered_at",
    ]
    list_filter = ["status", "warehouse", "method__carrier", "wave", "is_replacement"]
    list_select_related = ["order", "warehouse", "method__carrier"]
    search_fields = ["order__number", "parcels__tracking_code"]
    date_hierarchy = "created_at"
    # Shipments change only through services (actions, pack check): the page is read-only.
    fields = [
        "order",
        "warehouse",
        "method",
        "wave",
        "status",
        "is_replacement",
        "return_request",
        "promised_date",
        "freight_cost",
        "packed_at",
        "shipped_at",
        "delivered_at",
        "last_tracking_at",
    ]
    readonly_fields = fields
    inlines = [ShipmentLineInline, ParcelInline, AuditInline]
    actions = ["print_pick_list", "print_packing_slips", "ship_selected", "cancel_selected"]
    actions_detail = ["pack_detail"]
    actions_list = ["plan_list", "scorecard_list"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        return super().get_queryset(request).annotate(n_parcels=Count("parcels", distinct=True))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(description=_("order"), ordering="order__number")
    def order_link(self, obj: Shipment) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">#{}</a>', url, obj.order.number)

    @display(description=_("status"), ordering="status", label=STATUS_COLORS)
    def status_badge(self, obj: Shipment) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description=_("parcels"), ordering="n_parcels")
    def parcel_count(self, obj: Shipment) -> int:
        return getattr(obj, "n_parcels", 0)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/pack/", view(self.pack_view), name="logistics_shipment_pack"),
            path("plan/", view(self.plan_view), name="logistics_shipment_plan"),
            path("scorecard/", view(self.scorecard_view), name="logistics_carrier_scorecard"),
            *super().get_urls(),
        ]

    # bulk documents
    @admin.action(description=_("Print pick list (PDF)"))
    def print_pick_list(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> Any:
        from logistics.documents import pick_list_pdf

        ids = list(queryset.values_list("pk", flat=True))
        return _pdf(pick_list_pdf(shipment_ids=ids), f"pick-list-{timezone.localdate()}.pdf")

    @admin.action(description=_("Print packing slips (PDF)"))
    def print_packing_slips(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> Any:
        from logistics.documents import packing_slips_pdf

        ids = list(queryset.values_list("pk", flat=True))
        return _pdf(
            packing_slips_pdf(shipment_ids=ids), f"packing-slips-{timezone.localdate()}.pdf"
        )

    @admin.action(description=_("Ship (hand to the carrier)"), permissions=["change"])
    def ship_selected(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        done = 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                services.shipment_ship(shipment_id=pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"S{pk}: {_error_text(exc)}", messages.ERROR)
        if done:
            self.message_user(
                request, _("%(n)d shipment(s) shipped.") % {"n": done}, messages.SUCCESS
            )

    @admin.action(description=_("Cancel (not shipped yet)"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.shipment_cancel(shipment_id=pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"S{pk}: {_error_text(exc)}", messages.ERROR)

    @action(description=_("Pack check"), url_path="pack-check", permissions=["change"])
    def pack_detail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:logistics_shipment_pack", args=[object_id]))

    @action(description=_("Plan shipments for an order"), url_path="plan-shipments")
    def plan_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:logistics_shipment_plan"))

    @action(description=_("Carrier scorecard"), url_path="carrier-scorecard")
    def scorecard_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:logistics_carrier_scorecard"))

    def _context(self, request: HttpRequest, title: Any, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }

    def pack_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Scan what goes into the box (one code per line, or "code quantity"); a match
        packs the shipment; optionally record the parcel's tracking code."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        shipment = get_object_or_404(
            Shipment.objects.select_related("order", "warehouse"), pk=object_id
        )
        result = None
        scanned_text = ""
        if request.method == "POST":
            scanned_text = request.POST.get("scanned", "")
            scanned = parse_scans(scanned_text)
            try:
                result = services.pack_verify(
                    shipment_id=shipment.pk, scanned=scanned, actor=request.user
                )
                code = request.POST.get("tracking_code", "").strip()
                if result.ok and code:
                    services.parcel_add(
                        shipment_id=shipment.pk,
                        tracking_code=code,
                        weight_grams=int(request.POST.get("weight_grams") or 0),
                        actor=request.user,
                    )
                if result.ok:
                    self.message_user(
                        request, _("Everything checks: shipment packed."), messages.SUCCESS
                    )
                else:
                    self.message_user(
                        request, _("The box does not match the shipment."), messages.ERROR
                    )
            except (ApplicationError, ValueError) as exc:
                text = _error_text(exc) if isinstance(exc, ApplicationError) else str(exc)
                self.message_user(request, text, messages.ERROR)
            shipment.refresh_from_db()
        lines = shipment.lines.select_related("order_line__product").order_by("order_line__sku")
        return TemplateResponse(
            request,
            "logistics/admin/pack.html",
            self._context(
                request,
                _("Pack check — %(s)s (order #%(n)s)")
                % {"s": shipment, "n": shipment.order.number},
                shipment=shipment,
                lines=lines,
                result=result,
                scanned_text=scanned_text,
            ),
        )

    def plan_view(self, request: HttpRequest) -> HttpResponse:
        """Create the shipments of an order (one per warehouse holding its reservations)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            number = request.POST.get("order_number", "").strip()
            order = Order.objects.filter(number=number).order_by("-id").first()
            if order is None:
                self.message_user(request, _("No order %(n)s.") % {"n": number}, messages.ERROR)
            else:
                try:
                    created = services.shipments_plan(
                        order_id=order.pk,
                        wave=request.POST.get("wave", "").strip(),
                        actor=request.user,
                    )
                    self.message_user(
                        request,
                        _("%(n)d shipment(s) created for order #%(o)s.")
                        % {"n": len(created), "o": number},
                        messages.SUCCESS if created else messages.WARNING,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:logistics_shipment_changelist")
                        + f"?order__id__exact={order.pk}"
                    )
                except ApplicationError as exc:
                    self.message_user(request, _error_text(exc), messages.ERROR)
        return TemplateResponse(
            request, "logistics/admin/plan.html", self._context(request, _("Plan shipments"))
        )

    def scorecard_view(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        default_end = month_add(today.replace(day=1), 1)
        default_start = month_add(default_end, -6)
        try:
            start = date.fromisoformat(request.GET.get("start") or default_start.isoformat())
            end = date.fromisoformat(request.GET.get("end") or default_end.isoformat())
        except ValueError:
            start, end = default_start, default_end
        rows = carrier_scorecard(month_start=start, month_end=end)
        return TemplateResponse(
            request,
            "logistics/admin/scorecard.html",
            self._context(request, _("Carrier scorecard"), rows=rows, start=start, end=end),
        )


def month_add(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_scans(text: str) -> list[tuple[str, int]]:
    """Lines of "CODE" (one unit) or "CODE QTY" / "CODE;QTY" / "CODE,QTY"."""
    scans = []
    for raw in text.splitlines():
        parts = raw.replace(";", " ").replace(",", " ").split()
        if not parts:
            continue
        qty = 1
        if len(parts) > 1:
            try:
                qty = int(parts[-1])
            except ValueError as exc:
                raise ValueError(_("not a quantity: %(value)r") % {"value": parts[-1]}) from exc
        scans.append((parts[0], qty))
    return scans


# --- tracking --------------------------------------------------------------------------


@admin.register(TrackingEvent)
class TrackingEventAdmin(ImportExportModelAdmin, ModelAdmin):
    resource_classes = [TrackingEventResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = ["occurred_at", "parcel", "code", "kind", "description", "location", "source"]
    list_filter = ["kind", "source", "parcel__shipment__method__carrier"]
    list_select_related = ["parcel"]
    search_fields = ["parcel__tracking_code", "code"]
    date_hierarchy = "occurred_at"
    readonly_fields = [
        "parcel",
        "code",
        "kind",
        "description",
        "location",
        "occurred_at",
        "source",
        "raw",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Parcel)
class ParcelAdmin(ModelAdmin):
    list_display = ["tracking_code", "shipment", "weight_grams", "created_at"]
    search_fields = ["tracking_code"]
    list_select_related = ["shipment"]
    readonly_fields = ["shipment", "tracking_code", "weight_grams", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(DelayAlert)
class DelayAlertAdmin(ModelAdmin):
    list_display = [
        "detected_at",
        "shipment",
        "order_number",
        "carrier",
        "kind",
        "detail",
        "notification_id",
        "ticket_id",
        "resolved_at",
    ]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter), "shipment__method__carrier"]
    list_select_related = ["shipment__order", "shipment__method__carrier"]
    search_fields = ["shipment__order__number", "shipment__parcels__tracking_code"]
    date_hierarchy = "detected_at"
    readonly_fields = [
        "shipment",
        "kind",
        "detail",
        "notification_id",
        "ticket_id",
        "detected_at",
        "resolved_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @display(description=_("order"))
    def order_number(self, obj: DelayAlert) -> str:
        return f"#{obj.shipment.order.number}"

    @display(description=_("carrier"))
    def carrier(self, obj: DelayAlert) -> str:
        return obj.shipment.method.carrier.name if obj.shipment.method else "—"


# --- returns ---------------------------------------------------------------------------


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity", "reason", "grading", "received_quantity"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLine]:
        return super().get_queryset(request).select_related("order_line")


class ReturnAuditInline(AuditInline):
    fk_name = "return_request"


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ModelAdmin):
    list_display = [
        "id",
        "code",
        "order",
        "status",
        "is_exchange",
        "refund_amount",
        "requested_at",
        "received_at",
    ]
    list_filter = ["status", "is_exchange"]
    list_select_related = ["order"]
    search_fields = ["code", "order__number"]
    date_hierarchy = "requested_at"
    readonly_fields = [
        "order",
        "status",
        "code",
        "is_exchange",
        "refund_amount",
        "currency",
        "requested_at",
        "approved_at",
        "received_at",
        "refunded_at",
        "closed_at",
    ]
    fields = ["note", *readonly_fields]
    inlines = [ReturnLineInline, ReturnAuditInline]
    actions = ["approve", "reject", "refund", "close"]
    actions_detail = ["receive_detail"]
    actions_list = ["new_list"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/receive/", view(self.receive_view), name="logistics_return_receive"
            ),
            path("new/", view(self.new_view), name="logistics_return_new"),
            *super().get_urls(),
        ]

    def _each(
        self, request: HttpRequest, queryset: QuerySet[ReturnRequest], fn: Any, done_msg: Any
    ) -> None:
        done = 0
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                fn(return_id=pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"R{pk}: {_error_text(exc)}", messages.ERROR)
        if done:
            self.message_user(request, done_msg % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Approve (issue authorization code)"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._each(request, queryset, services.return_approve, _("%(n)d return(s) approved."))

    @admin.action(description=_("Reject"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._each(request, queryset, services.return_reject, _("%(n)d return(s) rejected."))

    @admin.action(description=_("Refund (received returns)"), permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._each(request, queryset, services.return_refund, _("%(n)d return(s) refunded."))

    @admin.action(description=_("Close"), permissions=["change"])
    def close(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        self._each(request, queryset, services.return_close, _("%(n)d return(s) closed."))

    @action(description=_("Receive and grade"), url_path="receive-grade", permissions=["change"])
    def receive_detail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:logistics_return_receive", args=[object_id]))

    @action(description=_("New return"), url_path="new-return")
    def new_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:logistics_return_new"))

    def _context(self, request: HttpRequest, title: Any, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            **extra,
        }

    def receive_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        ret = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=object_id)
        lines = list(ret.lines.select_related("order_line"))
        if request.method == "POST":
            try:
                grades = [
                    services.ReturnGradeIn(
                        return_line_id=line.pk,
                        grading=request.POST.get(f"grading_{line.pk}", ""),
                        received_quantity=int(request.POST.get(f"received_{line.pk}") or 0),
                    )
                    for line in lines
                ]
                services.return_receive(return_id=ret.pk, grades=grades, actor=request.user)
                self.message_user(request, _("Return received."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:logistics_returnrequest_change", args=[ret.pk])
                )
            except ApplicationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            except ValueError:
                self.message_user(request, _("Quantities must be whole numbers."), messages.ERROR)
        return TemplateResponse(
            request,
            "logistics/admin/receive.html",
            self._context(
                request,
                _("Receive return %(c)s (order #%(n)s)") % {"c": ret, "n": ret.order.number},
                ret=ret,
                lines=lines,
                gradings=ReturnLine.Grading.choices,
            ),
        )

    def new_view(self, request: HttpRequest) -> HttpResponse:
        """Open a return: pick the order, then quantities and reasons per shipped line."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        number = (request.GET.get("order") or request.POST.get("order") or "").strip()
        order = Order.objects.filter(number=number).order_by("-id").first() if number else None
        lines = list(OrderLine.objects.filter(order=order)) if order else []
        if request.method == "POST" and order is not None:
            try:
                items = [
                    services.ReturnLineIn(
                        order_line_id=line.pk,
                        quantity=int(request.POST.get(f"qty_{line.pk}") or 0),
                        reason=request.POST.get(f"reason_{line.pk}", ""),
                    )
                    for line in lines
                    if int(request.POST.get(f"qty_{line.pk}") or 0) > 0
                ]
                ret = services.return_request_create(
                    order_id=order.pk,
                    lines=items,
                    is_exchange=bool(request.POST.get("is_exchange")),
                    note=request.POST.get("note", ""),
                    actor=request.user,
                )
                self.message_user(request, _("Return requested."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:logistics_returnrequest_change", args=[ret.pk])
                )
            except ApplicationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            except ValueError:
                self.message_user(request, _("Quantities must be whole numbers."), messages.ERROR)
        return TemplateResponse(
            request,
            "logistics/admin/return_new.html",
            self._context(
                request,
                _("New return"),
                order=order,
                number=number,
                lines=lines,
                reasons=ReturnLine.Reason.choices,
            ),
        )


# --- outbound webhooks, audit ----------------------------------------------------------


class AttemptInline(ReadOnlyInline):
    model = OutboundWebhookAttempt
    fields = ["at", "status_code", "error", "duration_ms"]
    readonly_fields = fields


@admin.register(OutboundWebhook)
class OutboundWebhookAdmin(ModelAdmin):
    list_display = [
        "id",
        "channel",
        "event",
        "shipment",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "event", "channel"]
    list_select_related = ["channel", "shipment"]
    search_fields = ["shipment__order__number", "url"]
    readonly_fields = [
        "channel",
        "shipment",
        "event",
        "url",
        "payload",
        "status",
        "attempts",
        "last_error",
        "enqueued_at",
        "sent_at",
        "created_at",
    ]
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Retry failed webhooks"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboundWebhook]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            services.outbound_webhook_retry(webhook_id=pk)
        self.message_user(request, _("Queued again."), messages.SUCCESS)


@admin.register(LogisticsAudit)
class LogisticsAuditAdmin(ModelAdmin):
    list_display = [
        "created_at",
        "action",
        "shipment",
        "return_request",
        "from_value",
        "to_value",
        "actor",
        "message",
    ]
    list_filter = ["action"]
    list_select_related = ["shipment", "return_request", "actor"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "created_at",
        "action",
        "shipment",
        "return_request",
        "from_value",
        "to_value",
        "actor",
        "message",
        "data",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
