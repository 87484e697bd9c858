"""order_ingest: the hot path (DESIGN.md, "The hot path: an order arrives")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice import sql
from backoffice.errors import ApplicationError, ConflictError
from backoffice.money import quantize
from crm.services import customer_upsert
from inventory.models import Product
from orders.adapters.base import OrderIn
from orders.events import OrderCreated
from orders.models import Channel, Order, OrderEvent, OrderHold, OrderLine, WebhookDelivery
from orders.services.checks import address_missing, order_checks, risk_first_order_limit
from orders.services.common import (
    L,
    OrderChange,
    P,
    lifecycle_settle,
    payment_set,
)
from orders.services.stock import hold_close, lines_reserve, shortage_detail
from orders.services.transitions import cancel_apply
from orders.status import PAYMENT_TRANSITIONS, can_transition

S = OrderLine.StockStatus


@transaction.atomic
def order_ingest(
    *,
    channel: Channel,
    order_in: OrderIn,
    delivery: WebhookDelivery | None = None,
    source: str = OrderEvent.Source.WEBHOOK,
    actor: Any = None,
) -> Order:
    """Create or update the order ``order_in`` describes; safe to call again and in any
    order of created/paid/cancelled: the order only moves forward to where the platform
    says it stands (cancelled wins, payment never goes back), so every arrival order
    converges. New orders get their customer, lines, stock reservations and checks.

    ``delivery``, the webhook delivery that brought ``order_in``, is marked processed
    (linked to the order) in the same transaction: the order and the delivery's status
    commit together, with no savepoint for a transaction around this one."""
    _validate(order_in)
    order = _locked(channel.pk, order_in.external_id)
    ch: OrderChange | None = None
    if order is None:
        ch = _create(
            channel=channel, order_in=order_in, delivery=delivery, source=source, actor=actor
        )
        if ch is None:  # somebody else created it between our read and our insert
            order = _locked(channel.pk, order_in.external_id)
            if order is None:  # pragma: no cover - the unique constraint fired, so it exists
                raise ConflictError(_("Order could not be stored; retry."))
    if ch is None:
        assert order is not None
        ch = OrderChange(order, actor=actor, source=source, delivery=delivery)
        if order_in.updated_at and (
            order.platform_updated_at is None or order_in.updated_at > order.platform_updated_at
        ):
            ch.set("platform_updated_at", order_in.updated_at)
            _address_update(ch, order_in)
    _apply_state(ch, order_in)
    ch.commit()
    if delivery is not None:
        _delivery_processed(delivery, ch.order)
    return ch.order


def _delivery_processed(delivery: WebhookDelivery, order: Order) -> None:
    now = timezone.now()
    sql.update(
        WebhookDelivery,
        delivery.pk,
        status=WebhookDelivery.Status.PROCESSED,
        order_id=order.pk,
        errors=[],
        processed_at=now,
    )
    delivery.status, delivery.order, delivery.errors, delivery.processed_at = (
        WebhookDelivery.Status.PROCESSED,
        order,
        [],
        now,
    )


def _validate(order_in: OrderIn) -> None:
    errors = []
    if not order_in.external_id:
        errors.append({"field": "external_id", "message": _("Required.")})
    if not order_in.lines:
        errors.append({"field": "lines", "message": _("An order needs at least one line.")})
    for i, line in enumerate(order_in.lines):
        if line.quantity < 1:
            errors.append({"field": f"lines[{i}].quantity", "message": _("Must be at least 1.")})
    if errors:
        raise ApplicationError(_("The order cannot be read."), errors=errors)


def _locked(channel_id: int, external_id: str) -> Order | None:
    """The order by its unique (channel, external id), locked."""
    return sql.select_one(
        Order, "channel_id = %s AND external_id = %s", [channel_id, external_id], lock=True
    )


def _create(
    *,
    channel: Channel,
    order_in: OrderIn,
    delivery: WebhookDelivery | None,
    source: str,
    actor: Any,
) -> OrderChange | None:
    address = order_in.shipping_address
    c = order_in.customer
    customer = customer_upsert(
        name=c.name or address.name,
        email=c.email,
        phone=c.phone,
        document=c.document,
        country=address.country or "BR",
        language=c.language,
        accepts_marketing=c.accepts_marketing,
        address={
            "postal_code": address.postal_code,
            "street": address.street,
            "street_number": address.number,
            "complement": address.complement,
            "district": address.district,
            "city": address.city,
            "state": address.state,
            "country": address.country,
        },
    )
    skus = sorted({x.sku for x in order_in.lines})
    where = f"sku IN ({', '.join(['%s'] * len(skus))})"
    products = {p.sku: p for p in sql.select(Product, where, skus)}

    order = Order(
        channel=channel,
        external_id=order_in.external_id,
        number=order_in.number or order_in.external_id,
        customer=customer,
        email=(c.email or customer.email).strip().lower(),
        currency=order_in.currency or "BRL",
        payment_method=order_in.payment_method[:50],
        installments=max(order_in.installments, 1),
        shipping_method=order_in.shipping_method[:100],
        ship_name=(address.name or c.name)[:200],
        ship_postal_code=address.postal_code[:9],
        ship_street=address.street[:200],
        ship_number=address.number[:20],
        ship_complement=address.complement[:100],
        ship_district=address.district[:100],
        ship_city=address.city[:120],
        ship_state=address.state.upper()[:2],
        ship_country=(address.country or "BR").upper()[:2],
        utm_source=order_in.utm_source[:100],
        utm_medium=order_in.utm_medium[:100],
        utm_campaign=order_in.utm_campaign[:100],
        coupon_code=order_in.coupon_code[:50],
        note=order_in.note,
        placed_at=order_in.placed_at,
        paid_at=order_in.paid_at,
        platform_updated_at=order_in.updated_at,
    )
    lines = []
    for x in order_in.lines:
        product = products.get(x.sku)
        lines.append(
            OrderLine(
                order=order,
                external_id=x.external_id[:64],
                product=product,
                sku=x.sku[:64],
                name=(x.name or (product.name if product else x.sku))[:255],
                quantity=x.quantity,
                unit_price=quantize(x.unit_price),
                discount=quantize(x.discount),
                total=quantize(x.unit_price * x.quantity - x.discount),
                unit_cost=product.cost if product else Decimal("0.00"),
                stock_status=S.PENDING if product else S.UNKNOWN_SKU,
            )
        )
    subtotal = order_in.subtotal
    if subtotal is None:
        subtotal = sum((line.total for line in lines), Decimal("0.00"))
    order.subtotal = quantize(subtotal)
    order.shipping_total = quantize(order_in.shipping_total)
    order.discount_total = quantize(order_in.discount_total)
    order.tax_total = quantize(order_in.tax_total)
    total = order_in.total
    if total is None:
        total = subtotal + order_in.shipping_total - order_in.discount_total + order_in.tax_total
    order.total = quantize(max(total, Decimal("0.00")))

    # The risk rule only looks at first orders above the limit: ask the history then only.
    first_order = (
        order.total > risk_first_order_limit()
        and not Order.objects.filter(customer=customer).exists()
    )
    cancelled = order_in.cancelled
    holds = (
        []
        if cancelled
        else order_checks(
            order=order,
            lines=lines,
            customer=customer,
            first_order=first_order,
            document_sent=c.document,
        )
    )
    order.status = L.ON_HOLD if holds else L.NEW
    # ON CONFLICT DO NOTHING: a concurrent delivery of the same order that got there
    # first leaves this one nothing to insert, without a savepoint to roll back to.
    if not sql.insert(order, on_conflict_nothing=("channel", "external_id")):
        return None

    # Lines go in with the status they will most likely end with: released when the
    # order arrives cancelled, else reserved (lines_reserve corrects the short ones).
    for line in lines:
        if line.stock_status == S.PENDING:
            line.stock_status = S.RELEASED if cancelled else S.RESERVED
    sql.insert_many(lines)
    ch = OrderChange(
        order, actor=actor, source=source, delivery=delivery, lines=lines, open_holds={}
    )
    ch.log(
        OrderEvent.Kind.CREATED,
        to_value=order.status,
        message=_("Order %(number)s received from %(channel)s.")
        % {"number": order.number, "channel": channel.name},
    )
    for hold in holds:
        ch.hold_place(hold.reason, hold.detail)
    if not cancelled:
        short = lines_reserve(ch, lines, created=True)
        if short:
            ch.hold_place(OrderHold.Reason.STOCK_SHORTAGE, shortage_detail(short))
            lifecycle_settle(ch)
        ch.notify("order_received")
    ch.domain_events.append(OrderCreated(order.pk))
    return ch


ADDRESS_FIELDS = {
    "ship_name": ("name", 200),
    "ship_postal_code": ("postal_code", 9),
    "ship_street": ("street", 200),
    "ship_number": ("number", 20),
    "ship_complement": ("complement", 100),
    "ship_district": ("district", 100),
    "ship_city": ("city", 120),
    "ship_state": ("state", 2),
}


def _address_update(ch: OrderChange, order_in: OrderIn) -> None:
    """A newer description of an unshipped order may correct its shipping address
    (customers fix it on the store): take it, and let the address hold follow it."""
    order = ch.order
    if order.status in (L.CANCELLED, L.COMPLETED) or order.fulfillment_status != "unfulfilled":
        return
    address = order_in.shipping_address
    before = {f: getattr(order, f) for f in ADDRESS_FIELDS}
    for field, (attr, size) in ADDRESS_FIELDS.items():
        value = (getattr(address, attr) or "")[:size]
        if field == "ship_state":
            value = value.upper()
        if value and value != before[field]:
            ch.set(field, value)
    changed = {f: before[f] for f in ADDRESS_FIELDS if getattr(order, f) != before[f]}
    if not changed:
        return
    ch.log(
        OrderEvent.Kind.UPDATED,
        message=_("Shipping address updated by the store."),
        data={"before": changed},
    )
    missing = address_missing(order)
    hold = ch.open_holds().get(OrderHold.Reason.INCOMPLETE_ADDRESS)
    if hold is not None and not missing:
        hold_close(ch, hold, note=_("The store sent a complete address."))
    elif hold is None and missing:
        ch.hold_place(
            OrderHold.Reason.INCOMPLETE_ADDRESS,
            _("Shipping address incomplete: %(fields)s") % {"fields": ", ".join(missing)},
        )
    lifecycle_settle(ch)


def _apply_state(ch: OrderChange, order_in: OrderIn) -> None:
    """Move payment forward to what the platform says, then cancel if it says so.
    Backward or illegal moves are stale news (an older webhook arriving late): skipped."""
    order = ch.order
    target = order_in.payment_status or P.PENDING
    current = order.payment_status
    if target != current and target != P.PENDING:
        path = _payment_path(current, target)
        if path:
            for step in path:
                label = P(target).label if target in P.values else target
                payment_set(ch, step, reason=_("Store reported payment %(s)s.") % {"s": label})
            if order_in.paid_at and order.paid_at != order_in.paid_at and target == P.PAID:
                ch.set("paid_at", order_in.paid_at)
    if order_in.cancelled and order.status != L.CANCELLED:
        if order.status == L.COMPLETED or order.fulfillment_status != "unfulfilled":
            ch.log(
                OrderEvent.Kind.NOTE,
                message=_("Store reported a cancellation after shipping; not applied."),
            )
        else:
            cancel_apply(ch, reason=_("Cancelled on the store."))
            if order_in.cancelled_at:
                ch.set("cancelled_at", order_in.cancelled_at)


def _payment_path(current: str, target: str) -> list[str]:
    """The legal steps from ``current`` to ``target``: direct, or through paid (a
    refund reported for an order we never saw paid). Empty = not forward, skip."""
    if can_transition(PAYMENT_TRANSITIONS, current, target):
        return [target]
    if can_transition(PAYMENT_TRANSITIONS, current, P.PAID) and can_transition(
        PAYMENT_TRANSITIONS, P.PAID, target
    ):
        return [P.PAID, target]
    return []
