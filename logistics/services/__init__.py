"""logistics' write API: shipments, packing, tracking, delay watchdog, returns, store webhooks."""

from logistics.services.promise import business_days_add, method_resolve, shipment_promise_compute
from logistics.services.returns import (
    ReturnGradeIn,
    ReturnLineIn,
    return_approve,
    return_close,
    return_receive,
    return_refund,
    return_reject,
    return_request_create,
)
from logistics.services.shipments import (
    PackResult,
    ShipmentLineIn,
    fulfillment_derive,
    order_shipments_cancel,
    pack_verify,
    parcel_add,
    shipment_cancel,
    shipment_create,
    shipment_deliver,
    shipment_ship,
    shipments_plan,
)
from logistics.services.tracking import (
    TrackingUpdate,
    tracking_event_record,
    tracking_events_record,
    tracking_poll,
)
from logistics.services.watchdog import delay_alert_raise, delay_watch
from logistics.services.webhooks import (
    outbound_webhook_retry,
    outbound_webhook_send,
    outbound_webhook_sweep,
)

__all__ = [
    "PackResult",
    "ReturnGradeIn",
    "ReturnLineIn",
    "ShipmentLineIn",
    "TrackingUpdate",
    "business_days_add",
    "delay_alert_raise",
    "delay_watch",
    "fulfillment_derive",
    "method_resolve",
    "order_shipments_cancel",
    "outbound_webhook_retry",
    "outbound_webhook_send",
    "outbound_webhook_sweep",
    "pack_verify",
    "parcel_add",
    "return_approve",
    "return_close",
    "return_receive",
    "return_refund",
    "return_reject",
    "return_request_create",
    "shipment_cancel",
    "shipment_create",
    "shipment_deliver",
    "shipment_promise_compute",
    "shipment_ship",
    "shipments_plan",
    "tracking_event_record",
    "tracking_events_record",
    "tracking_poll",
]
