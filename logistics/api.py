"""HTTP entry points: the signed carrier tracking webhook, and a small REST API
(shipments list, ship, open a return).

``POST /api/logistics/tracking/<carrier_slug>/`` with a JSON body
``{"events": [{"tracking_code", "code", "occurred_at", "kind"?, "description"?, "location"?}]}``
(or one event object) and header ``X-Carrier-Signature: <hex HMAC-SHA256 of the raw body
with the carrier's secret>``. A bad or missing signature gets 401 and stores nothing but
an audit row; replays are answered 200 and stored once.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from logistics.models import (
    Carrier,
    Parcel,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from logistics.services import ReturnLineIn, return_request_create, shipment_ship
from logistics.services.tracking import (
    SIGNATURE_HEADER,
    TrackingParseError,
    signature_valid,
    tracking_events_record,
    tracking_rejection_record,
    update_from_dict,
)

MAX_BODY = 1024 * 1024


@csrf_exempt
@require_POST
def tracking_webhook_view(request: HttpRequest, carrier_slug: str) -> JsonResponse:
    body = request.body[: MAX_BODY + 1]
    carrier = Carrier.objects.filter(slug=carrier_slug, is_active=True).first()
    remote = request.META.get("REMOTE_ADDR")
    if carrier is None:
        tracking_rejection_record(
            carrier_slug=carrier_slug, reason="unknown carrier", body=body, remote_addr=remote
        )
        return JsonResponse({"detail": "Unknown carrier.", "errors": []}, status=404)
    if not signature_valid(body, carrier.webhook_secret, request.headers.get(SIGNATURE_HEADER)):
        tracking_rejection_record(
            carrier_slug=carrier_slug, reason="bad signature", body=body, remote_addr=remote
        )
        return JsonResponse({"detail": "Invalid signature.", "errors": []}, status=401)
    if len(body) > MAX_BODY:
        return JsonResponse({"detail": "Body too large.", "errors": []}, status=413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return JsonResponse(
            {"detail": "Invalid input.", "errors": [{"field": None, "message": "not JSON"}]},
            status=400,
        )
    items = data.get("events", [data]) if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        return JsonResponse(
            {"detail": "Invalid input.", "errors": [{"field": "events", "message": "required"}]},
            status=400,
        )
    updates, errors = [], []
    for i, item in enumerate(items):
        try:
            updates.append(update_from_dict(item, prefix=f"events[{i}]."))
        except TrackingParseError as exc:
            errors.extend(exc.errors)
    if errors:
        return JsonResponse({"detail": "Invalid input.", "errors": errors}, status=400)
    result = tracking_events_record(
        updates=updates, source=TrackingEvent.Source.WEBHOOK, carrier_id=carrier.pk
    )
    return JsonResponse(result.as_dict(), status=200)


# --- REST API (DRF, thin: selectors and services) ---------------------------------------


class ViewPermission(permissions.DjangoModelPermissions):
    """Reading needs the model's view permission (DRF's default lets anyone signed in)."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class ParcelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parcel
        fields = ["tracking_code", "weight_grams"]


class ShipmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.sku")

    class Meta:
        model = ShipmentLine
        fields = ["order_line_id", "sku", "quantity"]


class ShipmentSerializer(serializers.ModelSerializer):
    carrier = serializers.CharField(source="method.carrier.name", default="")
    method = serializers.CharField(source="method.code", default="")
    lines = ShipmentLineSerializer(many=True)
    parcels = ParcelSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order_id",
            "warehouse_id",
            "status",
            "carrier",
            "method",
            "wave",
            "promised_date",
            "freight_cost",
            "is_replacement",
            "shipped_at",
            "delivered_at",
            "last_tracking_at",
            "lines",
            "parcels",
        ]


class ShipmentFilter(django_filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")

    class Meta:
        model = Shipment
        fields = ["order", "status", "warehouse", "wave"]


class ShipmentCursorPagination(CursorPagination):
    ordering = ("-id",)


class ShipmentListApi(generics.ListAPIView):
    """Shipments, newest first; filter by order (id), status, warehouse, wave."""

    serializer_class = ShipmentSerializer
    permission_classes = [ViewPermission]
    pagination_class = ShipmentCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ShipmentFilter

    def get_queryset(self) -> QuerySet[Shipment]:
        return Shipment.objects.select_related("method__carrier").prefetch_related(
            Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line")),
            "parcels",
        )


class _ChangeShipment(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("logistics.change_shipment"))


class ShipInputSerializer(serializers.Serializer):
    freight_cost = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False
    )


class ShipmentShipApi(APIView):
    """Hand a shipment to the carrier (consumes stock, e-mails, tells the store)."""

    permission_classes = [permissions.IsAuthenticated, _ChangeShipment]

    @extend_schema(request=ShipInputSerializer, responses=ShipmentSerializer)
    def post(self, request: Request, pk: int) -> Response:
        data = ShipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shipment_ship(
            shipment_id=pk, actor=request.user, freight_cost=data.validated_data.get("freight_cost")
        )
        shipment = ShipmentListApi().get_queryset().get(pk=pk)
        return Response(ShipmentSerializer(shipment).data)


class ReturnLineInputSerializer(serializers.Serializer):
    order_line_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)
    reason = serializers.ChoiceField(choices=ReturnLine.Reason.choices)


class ReturnInputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    lines = ReturnLineInputSerializer(many=True)
    is_exchange = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "order_id",
            "status",
            "code",
            "is_exchange",
            "refund_amount",
            "requested_at",
        ]


class _AddReturn(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("logistics.add_returnrequest"))


class ReturnCreateApi(APIView):
    """Open a return (RMA) for shipped units."""

    permission_classes = [permissions.IsAuthenticated, _AddReturn]

    @extend_schema(request=ReturnInputSerializer, responses={201: ReturnSerializer})
    def post(self, request: Request) -> Response:
        data = ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ret = return_request_create(
            order_id=data.validated_data["order_id"],
            lines=[ReturnLineIn(**line) for line in data.validated_data["lines"]],
            is_exchange=data.validated_data["is_exchange"],
            note=data.validated_data["note"],
            actor=request.user,
        )
        return Response(ReturnSerializer(ret).data, status=201)
