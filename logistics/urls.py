from django.urls import path

from logistics.api import ReturnCreateApi, ShipmentListApi, ShipmentShipApi, tracking_webhook_view

app_name = "logistics"

urlpatterns = [
    path(
        "logistics/tracking/<slug:carrier_slug>/",
        tracking_webhook_view,
        name="tracking-webhook",
    ),
    path("logistics/shipments/", ShipmentListApi.as_view(), name="shipment-list"),
    path("logistics/shipments/<int:pk>/ship/", ShipmentShipApi.as_view(), name="shipment-ship"),
    path("logistics/returns/", ReturnCreateApi.as_view(), name="return-create"),
]
