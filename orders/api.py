"""REST API for orders (DRF, thin: views call selectors and services)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from orders.filters import OrderFilter
from orders.models import Order, OrderEvent
from orders.selectors import order_get, order_queryset
from orders.serializers import (
    OrderCancelInputSerializer,
    OrderConfirmInputSerializer,
    OrderDetailSerializer,
    OrderListSerializer,
)
from orders.services import order_cancel, order_confirm

router = DefaultRouter()


class OrderViewPermission(permissions.DjangoModelPermissions):
    """Reading needs orders.view_order (DRF's default lets any signed-in user read)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class OrderChangePermission(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("orders.change_order"))


class OrderCursorPagination(CursorPagination):
    ordering = ("-placed_at", "-id")


class OrderListApi(generics.ListAPIView):
    """Orders, newest first; filter by status, payment, fulfilment, channel, dates,
    open hold reason, or search by number, external id, e-mail, name or document."""

    serializer_class = OrderListSerializer
    permission_classes = [OrderViewPermission]
    pagination_class = OrderCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return order_queryset()


class OrderDetailApi(generics.RetrieveAPIView):
    serializer_class = OrderDetailSerializer
    permission_classes = [OrderViewPermission]
    queryset = Order.objects.none()

    def get_object(self) -> Order:
        return order_get(order_id=self.kwargs["pk"])


class OrderCancelApi(APIView):
    permission_classes = [OrderChangePermission]

    @extend_schema(request=OrderCancelInputSerializer, responses=OrderDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_cancel(
            order_id=pk,
            actor=request.user,
            reason=data.validated_data.get("reason", ""),
            source=OrderEvent.Source.API,
        )
        return Response(OrderDetailSerializer(order_get(order_id=pk)).data)


class OrderConfirmApi(APIView):
    permission_classes = [OrderChangePermission]

    @extend_schema(request=OrderConfirmInputSerializer, responses=OrderDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = OrderConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_confirm(
            order_id=pk,
            actor=request.user,
            reason=data.validated_data.get("reason", ""),
            source=OrderEvent.Source.API,
        )
        return Response(OrderDetailSerializer(order_get(order_id=pk)).data)


urlpatterns = [
    path("orders/", OrderListApi.as_view(), name="order-list"),
    path("orders/<int:pk>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:pk>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:pk>/confirm/", OrderConfirmApi.as_view(), name="order-confirm"),
]
