"""REST API for products and stock levels (DRF, thin: querysets come from selectors)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, permissions
from rest_framework.pagination import CursorPagination

from inventory.models import Product, StockLevel
from inventory.selectors import product_list, stock_level_list
from inventory.serializers import ProductSerializer, StockLevelSerializer


class ViewPermission(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission (DRF's default lets any user read)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class IdCursorPagination(CursorPagination):
    ordering = ("id",)


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku", help_text=_("Exact SKU."))
    active = django_filters.BooleanFilter(field_name="is_active")
    search = django_filters.CharFilter(
        method="filter_search", help_text=_("SKU, name or barcode contains.")
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(sku__icontains=value) | Q(name__icontains=value) | Q(barcode__icontains=value)
        )


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", help_text=_("Exact SKU."))
    warehouse = django_filters.CharFilter(
        field_name="warehouse__code", help_text=_("Warehouse code.")
    )

    class Meta:
        model = StockLevel
        fields: list[str] = []


class ProductListApi(generics.ListAPIView):
    """Products with units on hand and available to sell online."""

    serializer_class = ProductSerializer
    permission_classes = [ViewPermission]
    pagination_class = IdCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    queryset = Product.objects.none()  # for permissions and the schema

    def get_queryset(self) -> QuerySet[Product]:
        return product_list()


class ProductDetailApi(generics.RetrieveAPIView):
    serializer_class = ProductSerializer
    permission_classes = [ViewPermission]
    queryset = Product.objects.none()

    def get_queryset(self) -> QuerySet[Product]:
        return product_list()


class StockLevelListApi(generics.ListAPIView):
    """Stock per product and warehouse: on hand, reserved for orders, available."""

    serializer_class = StockLevelSerializer
    permission_classes = [ViewPermission]
    pagination_class = IdCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = StockLevelFilter
    queryset = StockLevel.objects.none()

    def get_queryset(self) -> QuerySet[StockLevel]:
        return stock_level_list()
