from django.urls import path

from finance.api import CashflowApi

urlpatterns = [
    path("finance/cashflow/", CashflowApi.as_view(), name="finance-cashflow"),
]
