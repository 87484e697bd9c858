"""REST API of finance (DRF, thin: views call selectors)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from finance.selectors import PERIODS, cashflow_actual, cashflow_projected


class CanViewLedger(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.has_perm("finance.view_cashentry"))


class CashflowQuery(serializers.Serializer):
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)
    period = serializers.ChoiceField(choices=PERIODS, default="day")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        today = timezone.localdate()
        attrs.setdefault("start", today - timedelta(days=30))
        attrs.setdefault("end", today + timedelta(days=90))
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "must not be before start"})
        if (attrs["end"] - attrs["start"]).days > 3 * 366:
            raise serializers.ValidationError({"end": "at most three years at a time"})
        return attrs


class CashflowRow(serializers.Serializer):
    period = serializers.DateField()
    inflow = serializers.DecimalField(max_digits=14, decimal_places=2)
    outflow = serializers.DecimalField(max_digits=14, decimal_places=2)
    net = serializers.DecimalField(max_digits=14, decimal_places=2)


class CashflowApi(APIView):
    """Actual cash flow (ledger) and projected (open receivables and payables)."""

    permission_classes = [CanViewLedger]

    def get(self, request: Request) -> Response:
        query = CashflowQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        start: date = query.validated_data["start"]
        end: date = query.validated_data["end"]
        period: str = query.validated_data["period"]
        return Response(
            {
                "start": start,
                "end": end,
                "period": period,
                "actual": CashflowRow(
                    cashflow_actual(start=start, end=end, period=period), many=True
                ).data,
                "projected": CashflowRow(
                    cashflow_projected(start=start, end=end, period=period), many=True
                ).data,
            }
        )
