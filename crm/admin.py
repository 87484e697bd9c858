"""crm admin: customers (timeline, LGPD), e-mail log, tickets (SAC), surveys, segments.

Thin: every change goes through crm.services; errors come back through message_user.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from backoffice.errors import ApplicationError
from crm.models import (
    AuditEntry,
    Customer,
    CustomerRFM,
    Notification,
    SurveyResponse,
    Ticket,
    TicketNote,
)
from crm.resources import CustomerRFMResource
from crm.selectors import customer_timeline
from crm.services import (
    customer_update,
    notification_retry,
    ticket_assign,
    ticket_note_add,
    ticket_open,
    ticket_priority_set,
    ticket_status_set,
)
from crm.services.customers import EDITABLE_FIELDS
from crm.services.privacy import customer_erase, customer_export

NOTIFICATION_COLORS = {
    Notification.Status.PENDING: "info",
    Notification.Status.SENT: "success",
    Notification.Status.FAILED: "danger",
    Notification.Status.SKIPPED: "warning",
}
TICKET_COLORS = {
    Ticket.Status.OPEN: "danger",
    Ticket.Status.PENDING: "warning",
    Ticket.Status.RESOLVED: "success",
    Ticket.Status.CLOSED: "info",
}


class ReadOnlyAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- customers ---------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin, ModelAdmin):
    list_display = ["name", "email", "document", "city", "state", "segment_display", "erased"]
    list_select_related = ["rfm"]
    list_filter = ["language", "marketing_opt_in", "rfm__segment", "state"]
    search_fields = ["name", "=email", "=document", "=phone"]
    search_help_text = _("Name, e-mail, CPF/CNPJ (digits) or phone.")
    list_per_page = 50
    show_full_result_count = False
    actions = ["export_personal_data", "erase_personal_data"]
    readonly_fields = [
        "document",
        "document_kind",
        "document_valid",
        "marketing_opted_out_at",
        "erased_at",
        "created_at",
        "updated_at",
        "timeline_display",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("name", "email", "phone"),
                    ("document", "document_kind", "document_valid"),
                    ("language", "marketing_opt_in", "marketing_opted_out_at"),
                ]
            },
        ),
        (
            _("Address"),
            {
                "fields": [
                    ("postal_code", "street", "street_number"),
                    ("complement", "district"),
                    ("city", "state", "country"),
                ]
            },
        ),
        (_("History"), {"fields": ["timeline_display"]}),
        (_("Record"), {"fields": [("created_at", "updated_at", "erased_at")]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # erase (anonymize) instead: orders keep pointing at the customer

    @display(description=_("segment"), ordering="rfm__segment")
    def segment_display(self, obj: Customer) -> str:
        rfm = getattr(obj, "rfm", None)
        return rfm.get_segment_display() if rfm else "-"

    @display(description=_("erased"), boolean=True)
    def erased(self, obj: Customer) -> bool:
        return obj.erased_at is not None

    @display(description=_("Timeline"))
    def timeline_display(self, obj: Customer) -> str:
        if obj.pk is None:
            return "-"
        entries = customer_timeline(customer_id=obj.pk)
        if not entries:
            return str(_("Nothing yet."))
        rows = format_html_join(
            "",
            '<tr class="border-b border-base-200 dark:border-base-800">'
            '<td class="py-1 pr-4 whitespace-nowrap">{}</td><td class="pr-4">{}</td>'
            '<td class="pr-4"><a class="text-primary-600" href="{}">{}</a></td>'
            '<td class="pr-4">{}</td><td>{}</td></tr>',
            (
                (
                    timezone.localtime(e.at).strftime("%d/%m/%Y %H:%M"),
                    e.kind,
                    e.url or "#",
                    e.title,
                    e.status,
                    e.detail,
                )
                for e in entries
            ),
        )
        return format_html(
            '<table class="w-full text-sm" data-testid="customer-timeline">'
            "<thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            _("When"),
            _("What"),
            _("Item"),
            _("Status"),
            _("Detail"),
            rows,
        )

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        fields = {k: form.cleaned_data[k] for k in form.changed_data if k in EDITABLE_FIELDS}
        try:
            customer_update(customer_id=obj.pk, fields=fields, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    @admin.action(description=_("Export personal data (LGPD, JSON)"))
    def export_personal_data(self, request: HttpRequest, queryset: QuerySet[Customer]) -> Any:
        data = [
            customer_export(customer_id=pk, actor=request.user)
            for pk in queryset.values_list("pk", flat=True)[:100]
        ]
        payload = data[0] if len(data) == 1 else data
        response = HttpResponse(
            json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        name = f"customer-{data[0]['customer']['id']}" if len(data) == 1 else "customers"
        response["Content-Disposition"] = f'attachment; filename="{name}-lgpd.json"'
        return response

    @admin.action(
        description=_("Erase personal data (LGPD, cannot be undone)"), permissions=["erase"]
    )
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Customer]) -> Any:
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "crm/admin/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Erase personal data?"),
                    "customers": queryset,
                    "opts": self.model._meta,
                    "action": "erase_personal_data",
                },
            )
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                customer_erase(customer_id=pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d customer(s) erased.") % {"n": done}, messages.SUCCESS)
        return None

    def has_erase_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("crm.erase_personal_data")


# --- e-mail log --------------------------------------------------------------------------


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "to_email",
        "status_display",
        "attempts",
        "send_after",
        "sent_at",
        "order_id",
    ]
    list_filter = ["status", "kind", "language", "created_at"]
    search_fields = ["=to_email", "=order_id", "dedupe_key", "subject"]
    list_per_page = 50
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ["retry_selected"]
    readonly_fields = [
        "kind",
        "channel",
        "to_email",
        "language",
        "customer",
        "order_id",
        "dedupe_key",
        "subject",
        "status",
        "attempts",
        "last_error",
        "send_after",
        "enqueued_at",
        "claimed_until",
        "sent_at",
        "created_at",
        "context_display",
    ]
    exclude = ["context"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(description=_("status"), label=NOTIFICATION_COLORS, ordering="status")
    def status_display(self, obj: Notification) -> Any:
        return obj.status, obj.get_status_display()

    @display(description=_("context"))
    def context_display(self, obj: Notification) -> str:
        return format_html(
            "<pre class='text-xs'>{}</pre>",
            json.dumps(obj.context, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder),
        )

    @admin.action(description=_("Send again (failed or skipped)"), permissions=["change"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                notification_retry(notification_id=pk, actor=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d e-mail(s) queued again.") % {"n": done})


# --- tickets -----------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("Overdue")), ("on_time", _("On time"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        open_ = queryset.filter(status__in=[Ticket.Status.OPEN, Ticket.Status.PENDING])
        if self.value() == "overdue":
            return open_.filter(sla_due_at__lt=timezone.now())
        if self.value() == "on_time":
            return open_.filter(sla_due_at__gte=timezone.now())
        return queryset


class TicketNoteInline(TabularInline):
    model = TicketNote
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "body"]
    readonly_fields = fields
    verbose_name_plural = _("internal notes")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketNote]:
        return super().get_queryset(request).select_related("author")


class TicketForm(forms.ModelForm):
    new_note = forms.CharField(
        label=_("add an internal note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = Ticket
        fields = ["customer", "order_id", "subject", "body", "priority", "status", "assigned_to"]


@admin.register(Ticket)
class TicketAdmin(ModelAdmin):
    form = TicketForm
    list_display = [
        "id",
        "subject",
        "customer",
        "priority",
        "status_display",
        "assigned_to",
        "sla_due_at",
        "overdue",
        "source",
    ]
    list_select_related = ["customer", "assigned_to"]
    list_filter = ["status", "priority", OverdueFilter, "source", "assigned_to"]
    search_fields = ["subject", "customer__name", "=customer__email", "=order_id"]
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ["customer"]
    inlines = [TicketNoteInline]
    actions = ["assign_to_me", "mark_resolved"]
    readonly_fields = ["sla_due_at", "source", "resolved_at", "created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["customer", "order_id", "subject", "body"]
        return fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @display(description=_("status"), label=TICKET_COLORS, ordering="status")
    def status_display(self, obj: Ticket) -> Any:
        return obj.status, obj.get_status_display()

    @display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Ticket) -> bool:
        return obj.status in (Ticket.Status.OPEN, Ticket.Status.PENDING) and (
            obj.sla_due_at < timezone.now()
        )

    def save_model(self, request: HttpRequest, obj: Ticket, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if not change:
                ticket = ticket_open(
                    customer_id=data["customer"].pk if data.get("customer") else None,
                    order_id=data.get("order_id"),
                    subject=data["subject"],
                    body=data.get("body", ""),
                    priority=data["priority"],
                    source=Ticket.Source.STAFF,
                    actor=request.user,
                )
                obj.pk = ticket.pk
                if data.get("assigned_to"):
                    ticket_assign(
                        ticket_id=ticket.pk, user_id=data["assigned_to"].pk, actor=request.user
                    )
            else:
                if "priority" in form.changed_data:
                    ticket_priority_set(
                        ticket_id=obj.pk, priority=data["priority"], actor=request.user
                    )
                if "assigned_to" in form.changed_data:
                    user = data.get("assigned_to")
                    ticket_assign(
                        ticket_id=obj.pk, user_id=user.pk if user else None, actor=request.user
                    )
                if "status" in form.changed_data:
                    ticket_status_set(ticket_id=obj.pk, status=data["status"], actor=request.user)
            if data.get("new_note"):
                ticket_note_add(ticket_id=obj.pk, body=data["new_note"], author=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Notes are added through ticket_note_add (save_model); the inline is read-only.
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                ticket_assign(ticket_id=pk, user_id=request.user.pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Mark resolved"), permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                ticket_status_set(ticket_id=pk, status=Ticket.Status.RESOLVED, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"#{pk}: {exc.message}", messages.WARNING)


# --- surveys, segments, audit ------------------------------------------------------------


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["answered_at", "customer", "order_id", "score", "category_display", "comment"]
    list_select_related = ["customer"]
    list_filter = ["score", "answered_at"]
    search_fields = ["customer__name", "=customer__email", "=order_id"]
    date_hierarchy = "answered_at"

    @display(description=_("category"))
    def category_display(self, obj: SurveyResponse) -> str:
        return obj.category


@admin.register(CustomerRFM)
class CustomerRFMAdmin(ExportMixin, ReadOnlyAdmin):
    resource_classes = [CustomerRFMResource]
    export_form_class = ExportForm
    list_display = [
        "customer",
        "segment",
        "r",
        "f",
        "m",
        "recency_days",
        "frequency",
        "monetary",
        "computed_at",
    ]
    list_select_related = ["customer"]
    list_filter = ["segment", "r", "f", "m"]
    search_fields = ["customer__name", "=customer__email"]
    list_per_page = 100


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "object_type", "object_id", "customer", "actor"]
    list_select_related = ["customer", "actor"]
    list_filter = ["action", "object_type"]
    search_fields = ["=object_id", "customer__name"]
    date_hierarchy = "created_at"
