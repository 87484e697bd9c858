"""Fill an empty database with a believable Brazilian shop, through the real services.

Deterministic (seeded): two warehouses, ~40 products, three store channels with price
lists, customers with valid CPFs, and N orders over the last four months, replayed day
by day as the shop would have lived them:

- orders arrive through ``order_ingest`` as the webhooks bring them (some paid, some
  cancelled, a few on hold); paid ones get their receivable from finance's handler;
- logistics plans, packs and ships them (NF-e data issued first, freight charged), the
  carrier's scans arrive, parcels are delivered, a few late (the hourly watchdog raises
  alerts, e-mails the customer and opens tickets), a few lost in transit; some customers
  send items back (returns in every state, refunds booked by finance);
- crm's outbox sends every e-mail, the surveys go out a week after delivery and some
  customers answer (detractors open tickets, promoters are asked for a review);
  customer service works on a few cases; RFM segments are computed at the end;
- finance: accounts with opening balances, gateway payouts settling the instalments,
  sweeps to the bank, monthly supplier bills paid on their due date (a few left
  overdue), weekly costs of the orders' utm_campaigns, goals, store traffic, and the
  job of the 1st renders last month's management report PDF.

Each step runs inside ``backoffice.demo.demo_clock`` at the moment it happens, so the
services stamp realistic dates (nothing in the future except due dates). Only the last
``MAIL_FILES_HOURS`` hours of e-mails reach the configured e-mail backend (in ``make
run``: files under var/mail/); older ones were "sent" to a discarding backend, so the
mail folder stays small while every notification row is sent.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone, translation
from faker import Faker

from backoffice.demo import demo_clock
from crm import demo as crm_demo
from finance import demo as finance_demo
from finance.selectors import next_month
from inventory.models import Product, StockLevel, Warehouse
from inventory.services import stock_receive
from logistics import demo as logistics_demo
from logistics.services import delay_watch
from orders.adapters.base import AddressIn, CustomerIn, LineIn, OrderIn
from orders.models import Channel, Order, PriceList, PriceListItem, Promotion
from orders.services import order_ingest
from orders.status import Lifecycle

SEED = 20240611

# (name, price, cost, weight g, consumption days)
PRODUCTS: list[tuple[str, str, str, int, int | None]] = [
    ("Café especial torrado em grãos 500 g", "54.90", "24.00", 520, 30),
    ("Café moído tradicional 250 g", "24.90", "10.50", 260, 15),
    ("Filtro de papel 103 (30 un.)", "8.90", "3.20", 120, 45),
    ("Cafeteira italiana 6 xícaras", "149.00", "68.00", 650, None),
    ("Prensa francesa 600 ml", "119.90", "52.00", 480, None),
    ("Moedor de café manual cerâmico", "189.00", "84.00", 540, None),
    ("Caneca de cerâmica 350 ml", "39.90", "14.00", 380, None),
    ("Chá mate tostado 250 g", "19.90", "7.80", 270, 30),
    ("Erva-mate para chimarrão 1 kg", "29.90", "12.00", 1030, 30),
    ("Cuia de porongo com bomba", "79.90", "31.00", 420, None),
    ("Sabonete vegetal de erva-doce", "14.90", "4.90", 110, 30),
    ("Shampoo sólido de babaçu", "39.90", "13.50", 90, 60),
    ("Condicionador de murumuru 300 ml", "42.90", "15.20", 330, 45),
    ("Óleo de coco extravirgem 500 ml", "36.90", "16.00", 520, 60),
    ("Protetor solar FPS 50 120 ml", "59.90", "24.00", 140, 60),
    ("Hidratante de castanha-do-pará 200 ml", "49.90", "18.00", 230, 45),
    ("Escova de dentes de bambu", "12.90", "3.90", 20, 90),
    ("Creme dental de juá 90 g", "16.90", "6.10", 100, 30),
    ("Desodorante natural de lavanda", "32.90", "11.00", 80, 45),
    ("Vela aromática de capim-limão", "54.90", "19.00", 310, None),
    ("Ração premium para cães adultos 10 kg", "229.90", "148.00", 10100, 30),
    ("Ração para gatos castrados 3 kg", "119.90", "74.00", 3050, 30),
    ("Areia higiênica de sílica 1,8 kg", "39.90", "18.50", 1850, 20),
    ("Petisco natural de frango 100 g", "21.90", "8.40", 110, 15),
    ("Brinquedo mordedor de corda", "29.90", "9.90", 150, None),
    ("Cama para pet tamanho M", "169.00", "72.00", 1400, None),
    ("Granola artesanal com castanhas 800 g", "44.90", "19.00", 820, 20),
    ("Mel silvestre orgânico 500 g", "39.90", "17.50", 640, 30),
    ("Pasta de amendoim integral 1 kg", "34.90", "15.80", 1040, 30),
    ("Azeite extravirgem português 500 ml", "49.90", "27.00", 920, 30),
    ("Tapioca hidratada 1 kg", "14.90", "5.90", 1010, 15),
    ("Farinha de mandioca d'água 1 kg", "17.90", "7.20", 1010, 30),
    ("Cachaça artesanal envelhecida 700 ml", "119.00", "55.00", 1250, None),
    ("Doce de leite mineiro 400 g", "24.90", "10.20", 450, 20),
    ("Goiabada cascão 600 g", "22.90", "9.40", 620, 30),
    ("Camiseta de algodão orgânico", "89.90", "32.00", 180, None),
    ("Ecobag de lona estampada", "49.90", "17.00", 160, None),
    ("Garrafa térmica inox 750 ml", "129.90", "51.00", 410, None),
    ("Kit de canudos de inox (4 un.)", "29.90", "9.80", 90, None),
    ("Caderno de papel reciclado A5", "34.90", "12.50", 290, None),
]

# (street, district, city, state, CEP): real streets, plausible numbers.
ADDRESSES = [
    ("Avenida Paulista", "Bela Vista", "São Paulo", "SP", "01310-100"),
    ("Rua Augusta", "Consolação", "São Paulo", "SP", "01305-000"),
    ("Rua Oscar Freire", "Jardim Paulista", "São Paulo", "SP", "01426-001"),
    ("Avenida Atlântica", "Copacabana", "Rio de Janeiro", "RJ", "22021-001"),
    ("Rua Voluntários da Pátria", "Botafogo", "Rio de Janeiro", "RJ", "22270-010"),
    ("Avenida Afonso Pena", "Centro", "Belo Horizonte", "MG", "30130-001"),
    ("Rua XV de Novembro", "Centro", "Curitiba", "PR", "80020-310"),
    ("Avenida Borges de Medeiros", "Centro Histórico", "Porto Alegre", "RS", "90020-023"),
    ("Avenida Sete de Setembro", "Dois de Julho", "Salvador", "BA", "40060-001"),
    ("Avenida Boa Viagem", "Boa Viagem", "Recife", "PE", "51011-000"),
    ("Avenida Beira Mar", "Meireles", "Fortaleza", "CE", "60165-121"),
    ("Rua das Flores", "Centro", "Florianópolis", "SC", "88010-000"),
    ("Avenida Goiás", "Setor Central", "Goiânia", "GO", "74005-010"),
    ("SQS 308 Bloco C", "Asa Sul", "Brasília", "DF", "70355-030"),
]

CHANNELS = [
    ("Loja Shopify", "shopify", Channel.Platform.SHOPIFY, Decimal("1.00")),
    ("Loja WooCommerce", "woocommerce", Channel.Platform.WOOCOMMERCE, Decimal("1.00")),
    ("Loja Nuvemshop", "nuvemshop", Channel.Platform.NUVEMSHOP, Decimal("1.05")),
]


# utm_source -> (utm_medium, utm_campaign, weekly cost of the campaign)
CAMPAIGNS: dict[str, tuple[str, str, Decimal]] = {
    "instagram": ("paid_social", "insta-cafe-especial", Decimal("220.00")),
    "google": ("cpc", "google-shopping-pet", Decimal("160.00")),
    "newsletter": ("email", "news-quinzenal", Decimal("45.00")),
}
# Freight the carrier charges per method (R$ range), by weight band.
FREIGHT = {
    "PAC": ("16.90", "34.90"),
    "SEDEX": ("27.90", "59.90"),
    "Jadlog .Package": ("19.90", "39.90"),
}
MAIL_FILES_HOURS = 72
# The answers of the customers who reply to the survey, in turn (NPS about +40).
SURVEY_SCORES = [10, 9, 8, 10, 6, 9, 7, 10, 3, 9]
HISTORY_DAYS = 120
SCARCE = 7  # every 20th product from the 8th on runs short on purpose


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[], Any] = field(compare=False)


class Timeline:
    """Steps of the shop's life, run in time order, each under ``demo_clock(at)``. A step
    may schedule later steps; steps after ``now`` are dropped (they have not happened)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.heap: list[_Step] = []
        self.seq = itertools.count()
        self.current: datetime | None = None
        self.ran = 0

    def at(self, when: datetime, run: Callable[[], Any]) -> None:
        if self.current is not None and when < self.current:
            when = self.current
        if when < self.now:
            heapq.heappush(self.heap, _Step(when, next(self.seq), run))

    def run(self, *, until: datetime) -> None:
        while self.heap and self.heap[0].at <= until:
            step = heapq.heappop(self.heap)
            self.current = step.at
            with demo_clock(step.at):
                step.run()
            self.ran += 1


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), tzinfo=timezone.get_current_timezone())


@contextmanager
def _quiet_task_log() -> Iterator[None]:
    """Eager Celery logs every task at INFO (a demo load runs thousands of them), kombu
    warns that the in-memory broker has no host name, WeasyPrint logs its steps while
    rendering the report: keep `make run`'s output short."""
    names = ("celery.app.trace", "kombu.connection", "weasyprint", "weasyprint.progress")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def _bulk_load() -> Iterator[None]:
    """On SQLite, skip the fsync of every commit while loading (thousands of small
    transactions); a crash mid-load leaves a demo database to delete, nothing more."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(previous)}")


class Command(BaseCommand):
    help = (
        "Load a deterministic demo shop: products, stock, channels, customers, orders, "
        "shipments and tracking, returns, e-mails, surveys, tickets, cash and payables."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--orders", type=int, default=300, help="How many orders (300).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when orders already exist."
        )

    def handle(self, *args: Any, orders: int, if_empty: bool, **options: Any) -> None:
        # Audit messages are written in the language active at the time: the shop's.
        with translation.override(settings.LANGUAGE_CODE), _quiet_task_log(), _bulk_load():
            self._load(orders=orders, if_empty=if_empty)

    def _load(self, *, orders: int, if_empty: bool) -> None:
        if if_empty and Order.objects.exists():
            self.stdout.write("Orders exist already; demo data not loaded.")
            return
        started = time.monotonic()
        rng = random.Random(SEED)
        story = random.Random(SEED + 1)  # the orders' lives after they arrive
        fake = Faker("pt_BR")
        fake.seed_instance(SEED)
        now = timezone.now()
        opening = now - timedelta(days=HISTORY_DAYS + 3)

        with demo_clock(opening):
            logistics_demo.demo_reference()
            with transaction.atomic():
                warehouses = self._warehouses()
                products = self._products(rng)
                self._stock(rng, products, warehouses)
                channels = self._channels(products, now)
            accounts = finance_demo.demo_accounts()
            today = timezone.localdate(now)
            finance_demo.demo_goals(
                months=sorted(
                    {
                        (today - timedelta(days=d)).replace(day=1)
                        for d in range(0, HISTORY_DAYS + 1, 5)
                    }
                ),
                first=Decimal("10500") * Decimal(orders) / 300,
                growth=Decimal("1.06"),
            )
        customers = self._customers(rng, fake, count=max(20, orders * 2 // 5))

        timeline = Timeline(now)
        self.story = story
        self.timeline = timeline
        self.accounts = accounts
        self.held: set[tuple[int, str]] = set()
        self.scale = max(0.1, orders / 300)
        self.counts: dict[str, int] = {}
        created = self._orders(rng, orders, products, channels, customers, now)
        self._shop_days(timeline, products, warehouses, opening, now)
        self._cases(timeline, now)

        mail_since = now - timedelta(hours=MAIL_FILES_HOURS)
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            timeline.run(until=mail_since)
        timeline.run(until=now)

        delay_watch()
        segments = crm_demo.demo_segments()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(products)} products, {len(channels)} channels, "
                f"{created} orders, {self.counts.get('shipments', 0)} shipments, "
                f"{self.counts.get('returns', 0)} returns, "
                f"{self.counts.get('survey answers', 0)} survey answers, {segments} customer "
                f"segments ({timeline.ran} steps replayed) in {time.monotonic() - started:.1f}s."
            )
        )

    # --- catalogue and stock -----------------------------------------------------------
    def _warehouses(self) -> list[Warehouse]:
        cd, _ = Warehouse.objects.get_or_create(
            code="cd-guarulhos",
            defaults={
                "name": "CD Guarulhos",
                "kind": Warehouse.Kind.DISTRIBUTION,
                "priority": 1,
                "postal_code": "07034-911",
                "city": "Guarulhos",
                "state": "SP",
            },
        )
        store, _ = Warehouse.objects.get_or_create(
            code="loja-pinheiros",
            defaults={
                "name": "Loja física Pinheiros",
                "kind": Warehouse.Kind.STORE,
                "priority": 2,
                "postal_code": "05422-001",
                "city": "São Paulo",
                "state": "SP",
            },
        )
        return [cd, store]

    def _products(self, rng: random.Random) -> list[Product]:
        products = []
        for i, (name, price, cost, weight, days) in enumerate(PRODUCTS, start=1):
            product, _ = Product.objects.get_or_create(
                sku=f"RG-{i:04d}",
                defaults={
                    "name": name,
                    "price": Decimal(price),
                    "cost": Decimal(cost),
                    "weight_grams": weight,
                    "consumption_days": days,
                    "barcode": f"789{rng.randrange(10**9, 10**10)}",
                },
            )
            products.append(product)
        return products

    def _stock(
        self, rng: random.Random, products: list[Product], warehouses: list[Warehouse]
    ) -> None:
        cd, store = warehouses
        for i, product in enumerate(products):
            # A few products run short on purpose, so backorders and holds show up.
            scarce = i % 20 == 7
            stock_receive(
                product_id=product.pk,
                warehouse_id=cd.pk,
                quantity=rng.randint(2, 4) if scarce else rng.randint(40, 120),
                reference="Estoque inicial (demo)",
            )
            if not scarce and i % 3 == 0:
                stock_receive(
                    product_id=product.pk,
                    warehouse_id=store.pk,
                    quantity=rng.randint(5, 20),
                    reference="Estoque inicial (demo)",
                )

    def _channels(self, products: list[Product], now: datetime) -> list[Channel]:
        channels = []
        for name, slug, platform, markup in CHANNELS:
            price_list, _ = PriceList.objects.get_or_create(
                name=f"Tabela {name}",
                defaults={"tolerance_percent": Decimal("5.00"), "currency": "BRL"},
            )
            PriceListItem.objects.bulk_create(
                [
                    PriceListItem(
                        price_list=price_list,
                        product=p,
                        price=(p.price * markup).quantize(Decimal("0.01")),
                    )
                    for p in products
                ],
                ignore_conflicts=True,
            )
            channel, _ = Channel.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "platform": platform,
                    "price_list": price_list,
                    "webhook_secret": f"demo-{slug}-secret",
                },
            )
            channels.append(channel)
        Promotion.objects.get_or_create(
            name="Semana do café",
            defaults={
                "kind": Promotion.Kind.PERCENT,
                "value": Decimal("15.00"),
                "product": products[0],
                "valid_from": now - timedelta(days=130),
                "valid_until": now + timedelta(days=30),
            },
        )
        Promotion.objects.get_or_create(
            name="Cupom BEMVINDO10",
            defaults={
                "code": "BEMVINDO10",
                "kind": Promotion.Kind.PERCENT,
                "value": Decimal("10.00"),
                "valid_from": now - timedelta(days=130),
                "valid_until": now + timedelta(days=60),
            },
        )
        return channels

    def _customers(self, rng: random.Random, fake: Faker, count: int) -> list[dict[str, Any]]:
        people = []
        for i in range(count):
            name = fake.name()
            first, *rest = _slug(name.split()[0]), name.split()[-1]
            street, district, city, state, cep = rng.choice(ADDRESSES)
            document = fake.cpf()
            if i % 37 == 5:
                document = "123.456.789-00"  # a typo the checks must catch
            people.append(
                {
                    "customer": CustomerIn(
                        name=name,
                        email=f"{first}.{_slug(rest[0])}{i}@example.com",
                        phone=fake.cellphone_number(),
                        document=document,
                        accepts_marketing=rng.random() < 0.4,
                    ),
                    "address": AddressIn(
                        name=name,
                        postal_code=cep,
                        street=street,
                        number=str(rng.randint(10, 2500)),
                        complement=rng.choice(["", "", f"apto {rng.randint(11, 184)}", "casa 2"]),
                        district=district,
                        city=city,
                        state=state,
                    ),
                }
            )
        return people

    # --- orders and their lives ----------------------------------------------------------
    def _orders(
        self,
        rng: random.Random,
        count: int,
        products: list[Product],
        channels: list[Channel],
        customers: list[dict[str, Any]],
        now: datetime,
    ) -> int:
        """Generate the orders (same draws as ever) and schedule their arrival, payment or
        cancellation on the timeline."""
        markup = {slug: m for (_name, slug, _platform, m) in CHANNELS}
        ages = sorted((rng.uniform(0, 120) for _ in range(count)), reverse=True)
        ages[-min(5, count) :] = [rng.uniform(0, 0.2) for _ in range(min(5, count))]  # some today
        numbers = {c.slug: 1000 for c in channels}
        for i, age_days in enumerate(ages):
            channel = rng.choices(channels, weights=[5, 3, 2])[0]
            numbers[channel.slug] += 1
            # About a third of orders come from a small group of regulars.
            regulars = max(1, len(customers) // 6)
            pool = regulars if rng.random() < 0.35 else len(customers)
            person = customers[rng.randrange(pool)]
            placed_at = min(now - timedelta(days=age_days), now - timedelta(minutes=1))
            picked = rng.sample(products, k=rng.choice([1, 1, 1, 2, 2, 3]))
            lines = [
                LineIn(
                    sku=p.sku,
                    name=p.name,
                    quantity=rng.choice([1, 1, 1, 2, 3]),
                    unit_price=(p.price * markup[channel.slug]).quantize(Decimal("0.01")),
                    external_id=f"{numbers[channel.slug]}-{n}",
                )
                for n, p in enumerate(picked, start=1)
            ]
            if i % 97 == 50:  # a SKU the store has and we don't
                lines.append(
                    LineIn(
                        sku="KIT-PRESENTE-NATAL",
                        name="Kit presente",
                        quantity=1,
                        unit_price=Decimal("99.90"),
                    )
                )
            shipping = Decimal(rng.choice(["0.00", "14.90", "19.90", "24.90"]))
            roll = rng.random()
            paid = roll < 0.78
            cancelled = 0.78 <= roll < 0.86
            payment_method = rng.choice(["pix", "credit_card", "boleto"])
            installments = rng.choice([1, 1, 2, 3])
            shipping_method = rng.choice(["PAC", "SEDEX", "Jadlog .Package"])
            source = rng.choice(["", "instagram", "google", "newsletter"])
            medium, campaign, _cost = CAMPAIGNS.get(source, ("", "", Decimal("0")))
            base = OrderIn(
                external_id=f"{channel.slug[:3].upper()}-{numbers[channel.slug]}",
                number=str(numbers[channel.slug]),
                placed_at=placed_at,
                currency="BRL",
                customer=person["customer"],
                lines=tuple(lines),
                shipping_address=person["address"],
                shipping_total=shipping,
                payment_method=payment_method,
                installments=installments,
                shipping_method=shipping_method,
                utm_source=source,
                utm_medium=medium,
                utm_campaign=campaign,
            )
            self.timeline.at(placed_at, _ingest(channel, base))
            if paid:
                paid_at = placed_at + timedelta(minutes=rng.randint(1, 90))
                self.timeline.at(
                    paid_at, _ingest(channel, replace(base, payment_status="paid", paid_at=paid_at))
                )
                # A few card payments are disputed: the gateway holds their payout.
                if payment_method == "credit_card" and self.story.random() < 0.05:
                    self.held.add(_order_key(channel, base))
            else:
                # Cancelled by the customer next day, or the boleto/pix expired unpaid.
                cancelled_at = placed_at + timedelta(days=1 if cancelled else 4)
                self.timeline.at(
                    cancelled_at,
                    _ingest(channel, replace(base, cancelled=True, cancelled_at=cancelled_at)),
                )
        return count

    def _held_ids(self) -> frozenset[int]:
        if not self.held:
            return frozenset()
        ids: set[int] = set()
        for channel_id, external_id in self.held:
            ids.update(
                Order.objects.filter(channel_id=channel_id, external_id=external_id).values_list(
                    "pk", flat=True
                )
            )
        return frozenset(ids)

    def _dispatch_wave(self) -> None:
        """15:00 on working days: the warehouse ships what was paid before noon."""
        now = timezone.now()
        cutoff = _local(timezone.localdate(now), 12)
        ready = Order.objects.filter(
            status__in=[Lifecycle.CONFIRMED, Lifecycle.PROCESSING],
            payment_status="paid",
            fulfillment_status="unfulfilled",
            paid_at__lt=cutoff,
        ).order_by("paid_at", "pk")
        for order_id, method in list(ready.values_list("pk", "shipping_method")):
            finance_demo.demo_invoice(order_id=order_id)
            low, high = FREIGHT.get(method, ("18.00", "35.00"))
            cents = self.story.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
            for sent in logistics_demo.demo_dispatch(
                order_id=order_id, freight_cost=Decimal(cents) / 100
            ):
                self._transit(order_id, sent, now)
                self._count("shipments")

    def _transit(
        self, order_id: int, sent: logistics_demo.Dispatched, shipped_at: datetime
    ) -> None:
        """The carrier's scans of one parcel, up to delivery (on time, late or lost)."""
        s, t = self.story, self.timeline
        ship_day = timezone.localdate(shipped_at)
        promised = sent.promised_date or ship_day + timedelta(days=5)
        code = sent.tracking_code
        t.at(
            shipped_at + timedelta(hours=s.randint(2, 4)),
            lambda: logistics_demo.demo_scan(
                tracking_code=code, step=logistics_demo.POSTED, location="Guarulhos/SP"
            ),
        )
        if t.now - shipped_at < timedelta(days=10) and self._count("recent shipments") <= 2:
            return  # lost in transit: no scan after posting; the watchdog will notice
        late = s.random() < 0.08
        if late:
            day = promised + timedelta(days=s.randint(1, 4))
        else:
            day = max(
                ship_day + timedelta(days=1), promised - timedelta(days=s.choice([0, 0, 1, 2]))
            )
        if day.weekday() == 6:
            day += timedelta(days=1)
        hub = s.choice(logistics_demo.HUBS)
        scan_day = ship_day + timedelta(days=1)
        while scan_day < day:
            t.at(
                _local(scan_day, s.randint(2, 6), s.randint(0, 59)),
                lambda: logistics_demo.demo_scan(
                    tracking_code=code, step=logistics_demo.IN_TRANSIT, location=hub
                ),
            )
            scan_day += timedelta(days=3)
        t.at(
            _local(day, 8, s.randint(0, 40)),
            lambda: logistics_demo.demo_scan(
                tracking_code=code, step=logistics_demo.OUT_FOR_DELIVERY, location=sent.destination
            ),
        )
        delivered_at = _local(day, s.randint(9, 18), s.randint(0, 59))
        t.at(
            delivered_at,
            lambda: logistics_demo.demo_scan(
                tracking_code=code, step=logistics_demo.DELIVERED, location=sent.destination
            ),
        )
        if late:
            t.at(
                delivered_at + timedelta(hours=20),
                lambda: logistics_demo.demo_delay_tickets_resolve(
                    shipment_id=sent.shipment_id,
                    note="Entrega confirmada pela transportadora; cliente informado.",
                ),
            )
        self._after_delivery(order_id, delivered_at, late)

    def _after_delivery(self, order_id: int, delivered_at: datetime, late: bool) -> None:
        """A week later the survey goes out (crm's sweep); some customers answer, a few
        send something back."""
        s, t = self.story, self.timeline
        delivered = self._count("deliveries")
        if delivered % 4 == 1:  # one customer in four answers
            score = SURVEY_SCORES[(delivered // 4) % len(SURVEY_SCORES)]
            if late:
                score = min(score, 6 if delivered % 8 == 1 else 8)
            comment = s.choice(crm_demo.COMMENTS[crm_demo.score_category(score)])
            answered_at = delivered_at + timedelta(days=7, hours=s.randint(7, 60))

            def answer() -> None:
                if crm_demo.demo_survey_answer(order_id=order_id, score=score, comment=comment):
                    self._count("survey answers")
                    if score <= 6 and s.random() < 0.6:
                        t.at(
                            timezone.now() + timedelta(hours=s.randint(3, 30)),
                            lambda: crm_demo.demo_detractor_followup(
                                order_id=order_id,
                                note="Liguei para o cliente, pedimos desculpas e enviamos cupom.",
                            ),
                        )

            t.at(answered_at, answer)
        if delivered % 14 == 5:  # about 7 % of deliveries come back
            self._return_story(order_id, delivered_at + timedelta(days=s.randint(2, 8), hours=3))

    RETURN_STORIES = [
        ("regret", False, ["approve", "receive", "refund", "close"]),
        ("damaged", False, ["approve", "receive", "refund"]),
        ("wrong_item", True, ["approve", "receive", "close"]),
        ("not_as_described", False, ["reject"]),
        ("defective", False, ["approve", "receive"]),
        ("regret", False, ["approve"]),
        ("other", False, []),
    ]

    def _return_story(self, order_id: int, requested_at: datetime) -> None:
        s, t = self.story, self.timeline
        n = self._count("return stories") - 1
        reason, exchange, steps = self.RETURN_STORIES[n % len(self.RETURN_STORIES)]

        def open_return() -> None:
            return_id = logistics_demo.demo_return_open(
                order_id=order_id,
                reason=reason,
                is_exchange=exchange,
                note="Cliente pediu pelo formulário da loja.",
            )
            if return_id is None:
                return
            self._count("returns")
            at = timezone.now()
            for step in steps:
                at += timedelta(days={"receive": s.randint(4, 7)}.get(step, 1), hours=2)
                t.at(
                    at,
                    partial(
                        logistics_demo.demo_return_step,
                        return_id=return_id,
                        step=step,
                        reason="Fora do prazo de 7 dias para arrependimento.",
                    ),
                )

        t.at(requested_at, open_return)

    # --- the shop's routine ----------------------------------------------------------------
    def _shop_days(
        self,
        t: Timeline,
        products: list[Product],
        warehouses: list[Warehouse],
        opening: datetime,
        now: datetime,
    ) -> None:
        from crm.services import notification_sweep

        accounts = self.accounts
        today = timezone.localdate(now)
        day = timezone.localdate(opening) + timedelta(days=1)
        this_month = today.replace(day=1)
        previous_month = (this_month - timedelta(days=1)).replace(day=1)
        first = True
        while day <= today:
            for hour in (0, 6, 12, 18):
                t.at(_local(day, hour, 30), notification_sweep)
            t.at(_local(day, 8), delay_watch)
            t.at(
                _local(day, 10),
                lambda: finance_demo.demo_payouts(
                    account_id=accounts["gateway"], held_order_ids=self._held_ids()
                ),
            )
            if day.weekday() < 5:
                t.at(_local(day, 15), self._dispatch_wave)
            if day.weekday() == 0:
                t.at(
                    _local(day, 9),
                    partial(
                        finance_demo.demo_campaign_costs,
                        weekly={c: cost for _m, c, cost in CAMPAIGNS.values()},
                    ),
                )
                t.at(
                    _local(day, 11),
                    lambda: finance_demo.demo_sweep(
                        from_account_id=accounts["gateway"],
                        to_account_id=accounts["bank"],
                        keep=Decimal("1500.00"),
                    ),
                )
            month = day.replace(day=1)
            if day.day == 1 or first:
                t.at(_local(day, 7), self._restock(month, products, warehouses[0]))
            if day.day == 1 and not first:
                # Staff type in last month's store traffic; the 06:00 job renders its report.
                last = (day - timedelta(days=1)).replace(day=1)
                t.at(
                    _local(day, 5),
                    partial(
                        finance_demo.demo_store_metrics,
                        month=last,
                        conversion=Decimal("0.014"),
                        carts_per_order=Decimal("3.2"),
                    ),
                )
                if last == previous_month:
                    t.at(_local(day, 6), partial(finance_demo.demo_report, month=last))
            # A month's supplier bills arrive around the 20th of the month before.
            billed = []
            if first:
                billed.append(month)
            if day.day == 20 or (first and day.day > 20):
                billed.append(next_month(month))
            for bills_month in billed:
                skip = (
                    {3}
                    if bills_month == previous_month
                    else {5}
                    if bills_month == this_month
                    else set()
                )
                t.at(_local(day, 9), self._bills(bills_month, skip))
            first = False
            day += timedelta(days=1)

    def _bills(self, month: date, skip: set[int]) -> Callable[[], None]:
        """``month``'s supplier bills arrive; each is paid on its due date, except
        ``skip`` (left overdue)."""

        def run() -> None:
            # Bills follow the shop's size (the default 300 orders: ~R$ 9.7k a month).
            factor = Decimal(str(round(self.story.uniform(0.85, 1.15) * self.scale, 3)))
            bills = finance_demo.demo_bills(month=month, factor=factor)
            for i, (payable_id, due) in enumerate(bills):
                if i in skip:
                    continue
                pay_at = max(_local(due, 11), timezone.now() + timedelta(hours=2))
                self.timeline.at(
                    pay_at,
                    partial(
                        finance_demo.demo_bill_pay,
                        payable_id=payable_id,
                        account_id=self.accounts["bank"],
                    ),
                )

        return run

    def _restock(self, month: date, products: list[Product], cd: Warehouse) -> Callable[[], None]:
        """The 1st of the month: the distribution centre is restocked (not the scarce
        products: they stay short on purpose)."""

        def run() -> None:
            levels = dict(
                StockLevel.objects.filter(warehouse=cd).values_list("product_id", "on_hand")
            )
            for i, product in enumerate(products):
                if i % 20 != SCARCE and levels.get(product.pk, 0) < 40:
                    stock_receive(
                        product_id=product.pk,
                        warehouse_id=cd.pk,
                        quantity=60,
                        reference=f"Reposição {month:%m/%Y}",
                    )

        return run

    def _cases(self, t: Timeline, now: datetime) -> None:
        """Customers write in about this and that over the last month."""
        s = self.story
        for case in range(len(crm_demo.CASES) + 2):
            opened = now - timedelta(days=2 + case * 3.5, hours=s.randint(0, 8))

            def open_case(case: int = case) -> None:
                recent = list(
                    Order.objects.filter(customer__isnull=False, placed_at__lt=timezone.now())
                    .order_by("-placed_at")
                    .values_list("pk", "customer_id")[:16]
                )
                order = s.choice(recent) if recent else None
                order_id, customer_id = order if order else (None, None)
                ticket_id, steps = crm_demo.demo_case_open(
                    case=case, customer_id=customer_id, order_id=order_id
                )
                at = timezone.now()
                for status, note in steps:
                    at += timedelta(hours=s.randint(2, 40))
                    t.at(
                        at,
                        partial(
                            crm_demo.demo_case_step, ticket_id=ticket_id, status=status, note=note
                        ),
                    )

            t.at(opened, open_case)

    def _count(self, what: str) -> int:
        self.counts[what] = self.counts.get(what, 0) + 1
        return self.counts[what]


def _order_key(channel: Channel, order_in: OrderIn) -> tuple[int, str]:
    return (channel.pk, order_in.external_id)


def _ingest(channel: Channel, order_in: OrderIn) -> Callable[[], Any]:
    return lambda: order_ingest(channel=channel, order_in=order_in)
