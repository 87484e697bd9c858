"""Inventory admin: catalog, warehouses, stock (read-only levels, adjust and transfer
forms), the movement ledger, reservations, suppliers and purchase orders.

Thin: every stock change goes through inventory.services; errors come back as messages.
Levels, movements and reservations are never edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from backoffice.errors import ApplicationError
from inventory import services
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
    Supplier,
    Warehouse,
)
from inventory.resources import ProductResource, StockCountResource

CHANGE_STOCK = "inventory.change_stocklevel"


def _error_text(exc: ApplicationError) -> str:
    detail = "; ".join(str(e.get("message")) for e in exc.errors[:3])
    return f"{exc.message} ({detail})" if detail else exc.message


class ReadOnlyMixin:
    """Rows written only by services: view them, never add, change or delete here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- catalog -----------------------------------------------------------------------------


class StockLevelInline(ReadOnlyMixin, TabularInline):
    model = StockLevel
    fields = ["warehouse", "on_hand", "reserved", "available_units", "updated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return super().get_queryset(request).select_related("warehouse")

    @display(description=_("available"))
    def available_units(self, obj: StockLevel) -> int:
        return obj.on_hand - obj.reserved


class AvailabilityFilter(admin.SimpleListFilter):
    title = _("available online")
    parameter_name = "availability"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("out", _("Out of stock")), ("in", _("In stock"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "out":
            return queryset.filter(available_total__lte=0)
        if self.value() == "in":
            return queryset.filter(available_total__gt=0)
        return queryset


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin, ImportExportModelAdmin, ModelAdmin):
    resource_classes = [ProductResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = [
        "sku",
        "name",
        "price",
        "cost",
        "on_hand_display",
        "available_display",
        "supplier",
        "is_active",
    ]
    list_filter = ["is_active", AvailabilityFilter, "supplier", "currency"]
    search_fields = ["sku", "name", "barcode"]
    list_select_related = ["supplier"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [StockLevelInline]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        totals = (
            StockLevel.objects.filter(product_id=OuterRef("pk")).order_by().values("product_id")
        )
        online = totals.filter(warehouse__is_active=True, warehouse__sells_online=True)
        return (
            super()
            .get_queryset(request)
            .annotate(
                on_hand_total=Coalesce(
                    Subquery(totals.annotate(n=Sum("on_hand")).values("n")),
                    0,
                    output_field=IntegerField(),
                ),
                available_total=Coalesce(
                    Subquery(online.annotate(n=Sum(F("on_hand") - F("reserved"))).values("n")),
                    0,
                    output_field=IntegerField(),
                ),
            )
        )

    @display(description=_("on hand"), ordering="on_hand_total")
    def on_hand_display(self, obj: Any) -> int:
        return obj.on_hand_total

    @display(description=_("available online"), ordering="available_total")
    def available_display(self, obj: Any) -> int:
        return obj.available_total


@admin.register(Warehouse)
class WarehouseAdmin(ModelAdmin):
    list_display = ["code", "name", "kind", "sells_online", "priority", "city", "is_active"]
    list_filter = ["kind", "sells_online", "is_active"]
    search_fields = ["code", "name", "city"]
    list_editable = ["priority"]


@admin.register(Supplier)
class SupplierAdmin(ModelAdmin):
    list_display = ["name", "document", "email", "phone", "product_count"]
    search_fields = ["name", "document", "email"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Supplier]:
        return super().get_queryset(request).annotate(n_products=Count("product"))

    @display(description=_("products"), ordering="n_products")
    def product_count(self, obj: Any) -> int:
        return obj.n_products


# --- stock -------------------------------------------------------------------------------


def _widget_attrs(form: forms.Form) -> None:
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            field.widget = UnfoldAdminSelectWidget(choices=field.widget.choices)
        elif isinstance(field, forms.IntegerField):
            field.widget = UnfoldAdminIntegerFieldWidget()
        elif isinstance(field.widget, forms.Textarea):
            field.widget = UnfoldAdminTextareaWidget(attrs={"rows": 2})
        elif isinstance(field, forms.CharField):
            field.widget = UnfoldAdminTextInputWidget()


class _StockForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _widget_attrs(self)

    def clean_sku(self) -> Product:
        sku = self.cleaned_data["sku"].strip()
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product with this SKU."))
        return product


class StockAdjustForm(_StockForm):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.all())
    new_on_hand = forms.IntegerField(
        label=_("Counted units"),
        required=False,
        min_value=0,
        help_text=_("The units physically counted (records a stock count)."),
    )
    delta = forms.IntegerField(
        label=_("Or change by"),
        required=False,
        help_text=_("Units found (positive) or lost/damaged (negative)."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("new_on_hand") is None) == (data.get("delta") is None):
            raise forms.ValidationError(_("Fill in either the counted units or the change."))
        return data


class StockTransferForm(_StockForm):
    from_warehouse = forms.ModelChoiceField(label=_("From"), queryset=Warehouse.objects.all())
    to_warehouse = forms.ModelChoiceField(label=_("To"), queryset=Warehouse.objects.all())
    quantity = forms.IntegerField(label=_("Units"), min_value=1)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea)


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyMixin, ImportExportModelAdmin, ModelAdmin):
    resource_classes = [StockCountResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    list_display = [
        "sku",
        "product_name",
        "warehouse",
        "on_hand",
        "reserved",
        "available_display",
        "updated_at",
    ]
    list_filter = ["warehouse", "warehouse__sells_online", "product__is_active"]
    search_fields = ["product__sku", "product__name"]
    list_select_related = ["product", "warehouse"]
    actions_list = ["adjust_list", "transfer_list"]
    actions_row = ["adjust_row", "transfer_row"]
    list_per_page = 100

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return super().get_queryset(request).annotate(available_units=F("on_hand") - F("reserved"))

    def has_adjust_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(CHANGE_STOCK)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(CHANGE_STOCK)

    @display(description=_("SKU"), ordering="product__sku")
    def sku(self, obj: StockLevel) -> str:
        return obj.product.sku

    @display(description=_("product"), ordering="product__name")
    def product_name(self, obj: StockLevel) -> str:
        return obj.product.name

    @display(description=_("available"), ordering="available_units")
    def available_display(self, obj: Any) -> int:
        return obj.available_units

    # row and list actions open the forms, prefilled from the row
    def _form_url(self, name: str, level_id: Any = None) -> str:
        url = reverse(f"admin:inventory_stocklevel_{name}")
        level = StockLevel.objects.select_related("product").filter(pk=level_id).first()
        if level is None:
            return url
        key = "warehouse" if name == "adjust" else "from_warehouse"
        query: dict[str, str | int] = {"sku": level.product.sku, key: level.warehouse_id}
        return f"{url}?{urlencode(query)}"

    @action(description=_("Adjust stock"), url_path="adjust-list", permissions=["adjust"])
    def adjust_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(self._form_url("adjust"))

    @action(description=_("Transfer"), url_path="transfer-list", permissions=["adjust"])
    def transfer_list(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(self._form_url("transfer"))

    @action(description=_("Adjust"), url_path="adjust-row", permissions=["adjust"])
    def adjust_row(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(self._form_url("adjust", object_id))

    @action(description=_("Transfer"), url_path="transfer-row", permissions=["adjust"])
    def transfer_row(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return HttpResponseRedirect(self._form_url("transfer", object_id))

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("adjust/", view(self.adjust_view), name="inventory_stocklevel_adjust"),
            path("transfer/", view(self.transfer_view), name="inventory_stocklevel_transfer"),
            *super().get_urls(),
        ]

    def _page(
        self, request: HttpRequest, form: forms.Form, title: Any, submit: Any
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "submit_label": submit,
            "opts": self.model._meta,
            "back_url": reverse("admin:inventory_stocklevel_changelist"),
        }
        return TemplateResponse(request, "inventory/admin_form.html", context)

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        form = StockAdjustForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                movement = services.stock_adjust(
                    product_id=data["sku"].pk,
                    warehouse_id=data["warehouse"].pk,
                    new_on_hand=data["new_on_hand"],
                    delta=data["delta"],
                    actor=request.user,
                    note=data["note"],
                )
            except ApplicationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                if movement is None:
                    self.message_user(request, _("Nothing changed."), messages.INFO)
                else:
                    self.message_user(
                        request,
                        _("%(sku)s at %(wh)s: %(delta)+d unit(s).")
                        % {
                            "sku": data["sku"].sku,
                            "wh": data["warehouse"],
                            "delta": movement.on_hand_delta,
                        },
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        return self._page(request, form, _("Adjust stock"), _("Adjust"))

    def transfer_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        form = StockTransferForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.stock_transfer(
                    product_id=data["sku"].pk,
                    from_warehouse_id=data["from_warehouse"].pk,
                    to_warehouse_id=data["to_warehouse"].pk,
                    quantity=data["quantity"],
                    actor=request.user,
                    note=data["note"],
                )
            except ApplicationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(n)d unit(s) of %(sku)s moved from %(src)s to %(dst)s.")
                    % {
                        "n": data["quantity"],
                        "sku": data["sku"].sku,
                        "src": data["from_warehouse"],
                        "dst": data["to_warehouse"],
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        return self._page(request, form, _("Transfer stock"), _("Transfer"))


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "created_at",
        "product",
        "warehouse",
        "reason",
        "on_hand_delta",
        "reserved_delta",
        "order_id",
        "reference",
        "actor",
    ]
    list_filter = ["reason", "warehouse", "created_at"]
    search_fields = ["product__sku", "reference", "=order_id", "=order_line_id"]
    list_select_related = ["product", "warehouse", "actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "order_id",
        "order_line_id",
        "product",
        "warehouse",
        "quantity",
        "shipped_quantity",
        "status",
        "created_at",
    ]
    list_filter = ["status", "warehouse"]
    search_fields = ["product__sku", "=order_id", "=order_line_id"]
    list_select_related = ["product", "warehouse"]


# --- purchasing --------------------------------------------------------------------------


class PurchaseOrderLineInline(TabularInline):
    model = PurchaseOrderLine
    fields = ["product", "quantity", "unit_cost", "received_quantity"]
    readonly_fields = ["received_quantity"]
    autocomplete_fields = ["product"]
    extra = 1


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ModelAdmin):
    list_display = [
        "__str__",
        "supplier",
        "warehouse",
        "status",
        "expected_at",
        "total",
        "line_count",
        "created_at",
    ]
    list_filter = ["status", "warehouse", "supplier"]
    search_fields = ["supplier__name", "=id"]
    list_select_related = ["supplier", "warehouse"]
    readonly_fields = ["total", "created_at"]
    inlines = [PurchaseOrderLineInline]
    actions = ["receive_selected"]
    actions_detail = ["receive_detail"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrder]:
        return super().get_queryset(request).annotate(n_lines=Count("lines"))

    @display(description=_("lines"), ordering="n_lines")
    def line_count(self, obj: Any) -> int:
        return obj.n_lines

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.purchase_order_total_refresh(purchase_order_id=form.instance.pk)

    def has_receive_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(CHANGE_STOCK) and request.user.has_perm(
            "inventory.change_purchaseorder"
        )

    def _receive(self, request: HttpRequest, ids: list[int]) -> None:
        for pk in ids:
            try:
                units = services.purchase_order_receive(purchase_order_id=pk, actor=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"PO-{pk}: {_error_text(exc)}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("PO-%(id)s: %(n)d unit(s) received.") % {"id": pk, "n": units},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Receive"), permissions=["receive"])
    def receive_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._receive(request, list(queryset.order_by("pk").values_list("pk", flat=True)))

    @action(description=_("Receive"), url_path="receive", permissions=["receive"])
    def receive_detail(self, request: HttpRequest, object_id: int) -> HttpResponse:
        self._receive(request, [int(object_id)])
        return HttpResponseRedirect(
            reverse("admin:inventory_purchaseorder_change", args=[object_id])
        )
