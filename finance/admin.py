"""Finance admin: accounts and their read-only ledger, receivables, payables, payout
reconciliation, goals, campaign costs, store metrics, fiscal documents, reports.

Thin: every change goes through finance.services; errors come back through message_user.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin, ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display
from unfold.forms import ActionForm

from backoffice.errors import ApplicationError
from finance.models import (
    CampaignCost,
    CashAccount,
    CashEntry,
    FinanceEvent,
    FiscalDocument,
    Instalment,
    ManagementReport,
    MonthlyGoal,
    Payable,
    PayoutImport,
    PayoutLine,
    Receivable,
    Refund,
    StoreMetrics,
)
from finance.resources import CampaignCostResource, CashEntryResource, StoreMetricsResource
from finance.selectors import MONEY, ZERO
from finance.services import (
    cash_transfer,
    fiscal_document_issue,
    instalment_settle,
    management_report_email,
    payable_cancel,
    payable_create,
    payable_pay,
    payout_import,
)

DOWNLOAD_PERMISSION = "finance.view_management_report"


def _errors(request: HttpRequest, admin_: admin.ModelAdmin, exc: ApplicationError) -> None:
    admin_.message_user(request, exc.message, messages.ERROR)
    for err in exc.errors:
        label = f"{err['field']}: " if err.get("field") else ""
        admin_.message_user(request, f"{label}{err['message']}", messages.ERROR)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AccountChoiceForm(ActionForm):
    account = forms.ModelChoiceField(
        label=_("Account"),
        queryset=CashAccount.objects.filter(is_active=True),
        required=False,
    )


class TransferForm(forms.Form):
    from_account = forms.ModelChoiceField(
        label=_("From"), queryset=CashAccount.objects.filter(is_active=True)
    )
    to_account = forms.ModelChoiceField(
        label=_("To"), queryset=CashAccount.objects.filter(is_active=True)
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=0)
    description = forms.CharField(label=_("Description"), required=False, max_length=255)


class PayoutImportForm(forms.Form):
    account = forms.ModelChoiceField(
        label=_("Credited account"), queryset=CashAccount.objects.filter(is_active=True)
    )
    file = forms.FileField(
        label=_("Payout CSV"),
        help_text=_("Columns: date, reference (order number), gross, fee, net."),
    )


def _form_page(
    admin_: admin.ModelAdmin, request: HttpRequest, form: forms.Form, title: str, submit: str
) -> TemplateResponse:
    context = {
        **admin_.admin_site.each_context(request),
        "title": title,
        "form": form,
        "submit_label": submit,
        "opts": admin_.model._meta,
        "back_url": reverse(
            f"admin:{admin_.model._meta.app_label}_{admin_.model._meta.model_name}_changelist"
        ),
    }
    return TemplateResponse(request, "finance/admin_form.html", context)


@admin.register(CashAccount)
class CashAccountAdmin(ModelAdmin):
    list_display = ["name", "kind", "currency", "balance_display", "is_active"]
    list_filter = ["kind", "currency", "is_active"]
    actions_list = ["transfer"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CashAccount]:
        return (
            super()
            .get_queryset(request)
            .annotate(balance=Coalesce(Sum("entries__amount"), ZERO, output_field=MONEY))
        )

    @display(description=_("balance"), ordering="balance")
    def balance_display(self, obj: Any) -> str:
        return f"{obj.currency} {obj.balance:.2f}"

    def get_urls(self) -> list:
        return [
            path(
                "transfer/",
                self.admin_site.admin_view(self.transfer_view),
                name="finance_cashaccount_transfer_form",
            ),
            *super().get_urls(),
        ]

    @action(description=_("Transfer between accounts"), url_path="transfer-funds")
    def transfer(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:finance_cashaccount_transfer_form"))

    def transfer_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("finance.add_cashentry"):
            raise PermissionDenied
        form = TransferForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                cash_transfer(
                    from_account_id=form.cleaned_data["from_account"].pk,
                    to_account_id=form.cleaned_data["to_account"].pk,
                    amount=form.cleaned_data["amount"],
                    description=form.cleaned_data["description"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                _errors(request, self, exc)
            else:
                self.message_user(request, _("Transfer recorded."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:finance_cashaccount_changelist"))
        return _form_page(
            self, request, form, str(_("Transfer between accounts")), str(_("Transfer"))
        )


@admin.register(CashEntry)
class CashEntryAdmin(ReadOnlyMixin, ExportMixin, ModelAdmin):
    """The ledger: append-only, so read-only here (exportable for the accountant)."""

    resource_classes = [CashEntryResource]
    export_form_class = ExportForm

    list_display = ["created_at", "account", "kind", "amount", "reference", "description", "actor"]
    list_filter = ["account", "kind"]
    list_select_related = ["account", "actor"]
    search_fields = ["reference", "description"]
    date_hierarchy = "created_at"


class InstalmentInline(TabularInline):
    model = Instalment
    extra = 0
    can_delete = False
    fields = ["number", "due_date", "gross", "fee", "net", "status", "paid_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Receivable)
class ReceivableAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "order",
        "payment_method",
        "instalment_count",
        "gross",
        "fee",
        "net",
        "created_at",
    ]
    list_select_related = ["order"]
    list_filter = ["payment_method"]
    search_fields = ["order__number", "order__external_id"]
    inlines = [InstalmentInline]


class DueFilter(admin.SimpleListFilter):
    """Open items by due date: overdue, due within 7 / 30 days."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("overdue", _("Overdue")),
            ("7", _("Due in 7 days")),
            ("30", _("Due in 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = timezone.localdate()
        value = self.value()
        if value == "overdue":
            return queryset.filter(status="open", due_date__lt=today)
        if value in ("7", "30"):
            return queryset.filter(
                status="open",
                due_date__gte=today,
                due_date__lte=today + timedelta(days=int(value)),
            )
        return queryset


class ReconciledFilter(admin.SimpleListFilter):
    title = _("payout")
    parameter_name = "payout"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("missing", _("Due, not in any payout")),
            ("matched", _("Matched to a payout line")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        in_payout = Exists(PayoutLine.objects.filter(instalment_id=OuterRef("pk")))
        if self.value() == "missing":
            return queryset.filter(
                status=Instalment.Status.OPEN, due_date__lte=timezone.localdate()
            ).exclude(in_payout)
        if self.value() == "matched":
            return queryset.filter(in_payout)
        return queryset


@admin.register(Instalment)
class InstalmentAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "order_number",
        "number",
        "due_date",
        "gross",
        "fee",
        "net",
        "status",
        "paid_at",
    ]
    list_filter = ["status", DueFilter, ReconciledFilter, "receivable__payment_method"]
    list_select_related = ["receivable__order"]
    search_fields = ["receivable__order__number"]
    action_form = AccountChoiceForm
    actions = ["settle"]

    @display(description=_("order"), ordering="receivable__order__number")
    def order_number(self, obj: Instalment) -> str:
        return f"#{obj.receivable.order.number}"

    def has_settle_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("finance.add_cashentry")

    @action(description=_("Mark received into the chosen account"), permissions=["settle"])
    def settle(self, request: HttpRequest, queryset: QuerySet[Instalment]) -> None:
        account = AccountChoiceForm(request.POST).data.get("account")
        if not account:
            self.message_user(request, _("Choose the account."), messages.ERROR)
            return
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                instalment_settle(instalment_id=pk, account_id=int(account), actor=request.user)
                done += 1
            except ApplicationError as exc:
                _errors(request, self, exc)
        self.message_user(request, _("%(n)s instalment(s) received.") % {"n": done})


class PayableForm(forms.ModelForm):
    class Meta:
        model = Payable
        fields = [
            "supplier",
            "purchase_order",
            "description",
            "document_number",
            "amount",
            "currency",
            "due_date",
        ]


@admin.register(Payable)
class PayableAdmin(ModelAdmin):
    form = PayableForm
    list_display = [
        "description",
        "supplier",
        "document_number",
        "amount",
        "due_date",
        "status",
        "paid_at",
    ]
    list_filter = ["status", DueFilter, "supplier"]
    list_select_related = ["supplier"]
    search_fields = ["description", "document_number"]
    action_form = AccountChoiceForm
    actions = ["pay", "cancel"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Payables change only through pay/cancel (audited); create is allowed.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from finance.services import payable_create_for_purchase_order

        data = form.cleaned_data
        if data.get("purchase_order"):
            created = payable_create_for_purchase_order(
                purchase_order_id=data["purchase_order"].pk,
                due_date=data["due_date"],
                actor=request.user,
            )
        else:
            created = payable_create(
                description=data["description"],
                amount=data["amount"],
                due_date=data["due_date"],
                supplier_id=data["supplier"].pk if data.get("supplier") else None,
                document_number=data.get("document_number") or "",
                currency=data["currency"],
                actor=request.user,
            )
        obj.pk = created.pk

    def has_pay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("finance.add_cashentry")

    @action(description=_("Pay from the chosen account"), permissions=["pay"])
    def pay(self, request: HttpRequest, queryset: QuerySet[Payable]) -> None:
        account = AccountChoiceForm(request.POST).data.get("account")
        if not account:
            self.message_user(request, _("Choose the account to pay from."), messages.ERROR)
            return
        done = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                payable_pay(payable_id=pk, account_id=int(account), actor=request.user)
                done += 1
            except ApplicationError as exc:
                _errors(request, self, exc)
        self.message_user(request, _("%(n)s payable(s) paid.") % {"n": done})

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("finance.delete_payable")

    @action(description=_("Cancel"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Payable]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                payable_cancel(payable_id=pk, actor=request.user)
            except ApplicationError as exc:
                _errors(request, self, exc)


class PayoutLineInline(TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    fields = [
        "row_number",
        "date",
        "reference",
        "gross",
        "fee",
        "net",
        "status",
        "reason",
        "instalment",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PayoutImport)
class PayoutImportAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "file_name",
        "account",
        "rows_total",
        "rows_matched",
        "rows_unmatched",
        "actor",
        "created_at",
    ]
    list_select_related = ["account", "actor"]
    inlines = [PayoutLineInline]
    actions_list = ["import_payout"]

    def get_urls(self) -> list:
        return [
            path(
                "upload/",
                self.admin_site.admin_view(self.upload_view),
                name="finance_payoutimport_upload",
            ),
            *super().get_urls(),
        ]

    @action(description=_("Import payout CSV"), url_path="import-payout")
    def import_payout(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:finance_payoutimport_upload"))

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("finance.add_payoutimport"):
            raise PermissionDenied
        form = PayoutImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                payout = payout_import(
                    account_id=form.cleaned_data["account"].pk,
                    file_name=upload.name,
                    content=upload.read(),
                    actor=request.user,
                )
            except ApplicationError as exc:
                _errors(request, self, exc)
            else:
                self.message_user(
                    request,
                    _("%(m)s of %(n)s line(s) matched; %(u)s unmatched.")
                    % {
                        "m": payout.rows_matched,
                        "n": payout.rows_total,
                        "u": payout.rows_unmatched,
                    },
                    messages.WARNING if payout.rows_unmatched else messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:finance_payoutimport_change", args=[payout.pk])
                )
        return _form_page(self, request, form, str(_("Import payout CSV")), str(_("Import")))


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "payout_import",
        "row_number",
        "date",
        "reference",
        "gross",
        "fee",
        "net",
        "status",
        "reason",
    ]
    list_filter = ["status", "payout_import"]
    list_select_related = ["payout_import"]
    search_fields = ["reference"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["order", "amount", "return_id", "reason", "created_at"]
    list_select_related = ["order"]


@admin.register(MonthlyGoal)
class MonthlyGoalAdmin(ModelAdmin):
    list_display = ["month", "revenue_goal"]


@admin.register(CampaignCost)
class CampaignCostAdmin(ModelAdmin, ImportExportModelAdmin):
    list_display = ["campaign", "date", "amount", "description"]
    list_filter = ["campaign"]
    resource_classes = [CampaignCostResource]
    import_form_class = ImportForm
    export_form_class = ExportForm


@admin.register(StoreMetrics)
class StoreMetricsAdmin(ModelAdmin, ImportExportModelAdmin):
    """Sessions, carts and orders per month as the store platform reports them
    (typed in, or imported from a sheet with columns month, sessions, carts, orders)."""

    list_display = ["month", "sessions", "carts", "orders"]
    resource_classes = [StoreMetricsResource]
    import_form_class = ImportForm
    export_form_class = ExportForm


class FiscalIssueForm(forms.Form):
    order_number = forms.CharField(label=_("Order number"), max_length=64)


@admin.register(FiscalDocument)
class FiscalDocumentAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["order", "series", "number", "access_key", "status", "provider", "issued_at"]
    list_select_related = ["order"]
    list_filter = ["status"]
    search_fields = ["access_key", "order__number"]
    readonly_fields = [
        "order",
        "access_key",
        "number",
        "series",
        "status",
        "provider",
        "issued_at",
        "xml",
    ]
    actions_list = ["issue"]

    def get_urls(self) -> list:
        return [
            path(
                "issue/",
                self.admin_site.admin_view(self.issue_view),
                name="finance_fiscaldocument_issue_form",
            ),
            *super().get_urls(),
        ]

    @action(description=_("Issue NF-e for an order"), url_path="issue-nfe")
    def issue(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:finance_fiscaldocument_issue_form"))

    def issue_view(self, request: HttpRequest) -> HttpResponse:
        from orders.models import Order

        if not request.user.has_perm("finance.add_fiscaldocument"):
            raise PermissionDenied
        form = FiscalIssueForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            number = form.cleaned_data["order_number"].strip().lstrip("#")
            order_id = Order.objects.filter(number=number).values_list("pk", flat=True).first()
            if order_id is None:
                form.add_error("order_number", _("No order with this number."))
            else:
                try:
                    doc = fiscal_document_issue(order_id=order_id, actor=request.user)
                except ApplicationError as exc:
                    _errors(request, self, exc)
                else:
                    self.message_user(
                        request,
                        _("NF-e %(series)s/%(number)s generated locally (not authorized by SEFAZ).")
                        % {"series": doc.series, "number": doc.number},
                        messages.WARNING,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:finance_fiscaldocument_change", args=[doc.pk])
                    )
        return _form_page(self, request, form, str(_("Issue NF-e for an order")), str(_("Issue")))


@admin.register(FinanceEvent)
class FinanceEventAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "created_at",
        "object_type",
        "object_id",
        "action",
        "from_value",
        "to_value",
        "actor",
    ]
    list_filter = ["object_type", "action"]
    list_select_related = ["actor"]


@admin.register(ManagementReport)
class ManagementReportAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = ["month", "status", "generated_at", "emailed_at", "download_link"]
    actions = ["generate", "email"]
    actions_list = ["generate_previous_month"]

    @action(
        description=_("Generate last month's report"),
        url_path="generate-previous-month",
        permissions=["generate"],
    )
    def generate_previous_month(self, request: HttpRequest) -> HttpResponse:
        from finance.tasks import management_report_generate_task

        management_report_generate_task.delay()
        self.message_user(request, _("Generation queued."))
        return HttpResponseRedirect(reverse("admin:finance_managementreport_changelist"))

    def get_urls(self) -> list:
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="finance_managementreport_download",
            ),
            *super().get_urls(),
        ]

    @display(description=_("PDF"))
    def download_link(self, obj: ManagementReport) -> str:
        if obj.status != ManagementReport.Status.READY:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:finance_managementreport_download", args=[obj.pk]),
            _("Download"),
        )

    def download_view(self, request: HttpRequest, pk: int) -> FileResponse:
        if not request.user.has_perm(DOWNLOAD_PERMISSION):
            raise PermissionDenied
        report = ManagementReport.objects.filter(pk=pk).first()
        if report is None or not report.file:
            raise Http404
        return FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=f"management-report-{report.month:%Y-%m}.pdf",
            content_type="application/pdf",
        )

    def has_generate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(DOWNLOAD_PERMISSION)

    @action(description=_("Generate again"), permissions=["generate"])
    def generate(self, request: HttpRequest, queryset: QuerySet[ManagementReport]) -> None:
        from finance.tasks import management_report_generate_task

        for month in queryset.values_list("month", flat=True):
            management_report_generate_task.delay(f"{month:%Y-%m}")
        self.message_user(request, _("Generation queued."))

    @action(description=_("E-mail to managers"), permissions=["generate"])
    def email(self, request: HttpRequest, queryset: QuerySet[ManagementReport]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                sent = management_report_email(report_id=pk)
            except ApplicationError as exc:
                _errors(request, self, exc)
            else:
                self.message_user(request, _("Sent to %(n)s manager(s).") % {"n": sent})
