from __future__ import annotations

import threading

import pytest
from django.db import connection

from backoffice.errors import ApplicationError
from inventory.models import StockLevel, StockMovement
from logistics import services
from tests.factories.logistics import correios_sedex, ready_order


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ships_of_one_shipment_consume_once():
    sedex = correios_sedex()
    ro = ready_order(quantities=(2,), on_hand=5)
    shipment = services.shipment_create(order_id=ro.order.pk, method_id=sedex.pk)
    services.parcel_add(shipment_id=shipment.pk, tracking_code="CONC1BR")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def ship():
        try:
            barrier.wait()
            services.shipment_ship(shipment_id=shipment.pk)
        except ApplicationError as exc:  # pragma: no cover - would be a bug
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ship) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    level = StockLevel.objects.get(product=ro.products[0], warehouse=ro.warehouse)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert StockMovement.objects.filter(reason="ship").count() == 1
