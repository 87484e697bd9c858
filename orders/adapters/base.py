"""The normalized order every platform adapter produces, and the adapter interface.

An adapter turns one verified delivery (headers + raw body) into an ``OrderIn`` for
``orders.services.order_ingest``; it raises ``PayloadError`` naming every problem it
found so the sender gets a 400 with the full list and the delivery is kept as failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from backoffice.errors import ApplicationError

if TYPE_CHECKING:
    from orders.models import Channel


class PayloadError(ApplicationError):
    """The body is not an order we can read; ``errors`` lists each problem by field."""


@dataclass(frozen=True)
class AddressIn:
    name: str = ""
    postal_code: str = ""
    street: str = ""
    number: str = ""
    complement: str = ""
    district: str = ""
    city: str = ""
    state: str = ""
    country: str = "BR"


@dataclass(frozen=True)
class CustomerIn:
    name: str
    email: str = ""
    phone: str = ""
    document: str = ""  # CPF/CNPJ as sent; the service validates and keeps digits
    language: str = "pt-br"
    accepts_marketing: bool = False


@dataclass(frozen=True)
class LineIn:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal("0.00")
    external_id: str = ""


@dataclass(frozen=True)
class OrderIn:
    """One order as the platform last described it. ``payment_status`` and ``cancelled``
    say where it stands; ingest moves the order forward to that state, never back."""

    external_id: str
    number: str
    placed_at: datetime
    currency: str
    customer: CustomerIn
    lines: tuple[LineIn, ...]
    shipping_address: AddressIn = field(default_factory=AddressIn)
    subtotal: Decimal | None = None
    shipping_total: Decimal = Decimal("0.00")
    discount_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal | None = None
    payment_status: str = "pending"  # one of orders.status.Payment
    payment_method: str = ""
    installments: int = 1
    cancelled: bool = False
    cancelled_at: datetime | None = None
    paid_at: datetime | None = None
    updated_at: datetime | None = None
    shipping_method: str = ""
    coupon_code: str = ""
    note: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


@dataclass(frozen=True)
class Delivery:
    """What the webhook view hands an adapter after the signature checked out."""

    topic: str
    delivery_id: str
    headers: dict[str, str]
    body: bytes
    # The channel it came in on: adapters that must call the platform back (Nuvemshop
    # sends only a notice) need its API credentials and store id.
    channel: Channel | None = None


class Adapter(Protocol):
    platform: str

    def unsigned_ping(self, *, headers: dict[str, str], body: bytes) -> bool:
        """True for a platform's unsigned liveness ping (answered 200, nothing stored)."""
        ...

    def signature_valid(self, *, secret: str, headers: dict[str, str], body: bytes) -> bool: ...

    def delivery_id(self, *, headers: dict[str, str], body: bytes) -> str: ...

    def topic(self, *, headers: dict[str, str], body: bytes) -> str: ...

    def parse(self, delivery: Delivery) -> OrderIn | None:
        """The order in the delivery, or None for deliveries that need no action (pings)."""
        ...
