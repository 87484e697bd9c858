"""factory_boy factories, one module per app. Import from here in tests."""

from tests.factories.core import (
    ChannelFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StaffUserFactory,
    StockLevelFactory,
    WarehouseFactory,
)
from tests.factories.crm import NotificationFactory, TicketFactory

__all__ = [
    "ChannelFactory",
    "CustomerFactory",
    "NotificationFactory",
    "OrderFactory",
    "OrderLineFactory",
    "ProductFactory",
    "StaffUserFactory",
    "StockLevelFactory",
    "TicketFactory",
    "WarehouseFactory",
]
