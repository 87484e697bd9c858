"""Fill an empty database with a believable Brazilian shop, through the real services.

Deterministic (seeded): two warehouses, ~40 products, three store channels with price
lists, customers with valid CPFs, and N orders over the last four months ingested with
``order_ingest`` the way webhooks would bring them (some paid, some cancelled, a few on
hold); old paid orders are shipped and delivered so stock and KPIs look lived-in.
"""

from __future__ import annotations

import random
import time
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone, translation
from faker import Faker

from inventory.models import Product, Warehouse
from inventory.services import stock_consume, stock_receive
from orders.adapters.base import AddressIn, CustomerIn, LineIn, OrderIn
from orders.models import Channel, Order, PriceList, PriceListItem, Promotion
from orders.services import order_fulfillment_set, order_ingest

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


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum())


class Command(BaseCommand):
    help = "Load a deterministic demo shop (products, stock, channels, customers, orders)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--orders", type=int, default=300, help="How many orders (300).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when orders already exist."
        )

    def handle(self, *args: Any, orders: int, if_empty: bool, **options: Any) -> None:
        # Audit messages are written in the language active at the time: the shop's.
        with translation.override(settings.LANGUAGE_CODE):
            self._load(orders=orders, if_empty=if_empty)

    def _load(self, *, orders: int, if_empty: bool) -> None:
        if if_empty and Order.objects.exists():
            self.stdout.write("Orders exist already; demo data not loaded.")
            return
        started = time.monotonic()
        rng = random.Random(SEED)
        fake = Faker("pt_BR")
        fake.seed_instance(SEED)
        now = timezone.now()

        with transaction.atomic():
            warehouses = self._warehouses()
            products = self._products(rng)
            self._stock(rng, products, warehouses)
            channels = self._channels(products, now)
        customers = self._customers(rng, fake, count=max(20, orders * 2 // 5))
        created = self._orders(rng, fake, orders, products, channels, customers, now)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(products)} products, {len(channels)} channels, "
                f"{created} orders in {time.monotonic() - started:.1f}s."
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

    # --- customers and orders ----------------------------------------------------------
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

    def _orders(
        self,
        rng: random.Random,
        fake: Faker,
        count: int,
        products: list[Product],
        channels: list[Channel],
        customers: list[dict[str, Any]],
        now: datetime,
    ) -> int:
        markup = {slug: m for (_name, slug, _platform, m) in CHANNELS}
        ages = sorted((rng.uniform(0, 120) for _ in range(count)), reverse=True)
        ages[-min(5, count) :] = [rng.uniform(0, 0.2) for _ in range(min(5, count))]  # some today
        numbers = {c.slug: 1000 for c in channels}
        created = 0
        for i, age_days in enumerate(ages):
            channel = rng.choices(channels, weights=[5, 3, 2])[0]
            numbers[channel.slug] += 1
            # About a third of orders come from a small group of regulars.
            regulars = max(1, len(customers) // 6)
            pool = regulars if rng.random() < 0.35 else len(customers)
            person = customers[rng.randrange(pool)]
            placed_at = now - timedelta(days=age_days)
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
            base = OrderIn(
                external_id=f"{channel.slug[:3].upper()}-{numbers[channel.slug]}",
                number=str(numbers[channel.slug]),
                placed_at=placed_at,
                currency="BRL",
                customer=person["customer"],
                lines=tuple(lines),
                shipping_address=person["address"],
                shipping_total=shipping,
                payment_method=rng.choice(["pix", "credit_card", "boleto"]),
                installments=rng.choice([1, 1, 2, 3]),
                shipping_method=rng.choice(["PAC", "SEDEX", "Jadlog .Package"]),
                utm_source=rng.choice(["", "instagram", "google", "newsletter"]),
            )
            order = order_ingest(channel=channel, order_in=base)
            if paid:
                order = order_ingest(
                    channel=channel,
                    order_in=_replace(
                        base,
                        payment_status="paid",
                        paid_at=placed_at + timedelta(minutes=rng.randint(1, 90)),
                    ),
                )
            elif cancelled:
                order = order_ingest(
                    channel=channel,
                    order_in=_replace(
                        base, cancelled=True, cancelled_at=placed_at + timedelta(days=1)
                    ),
                )
            if paid and age_days > 7 and order.status == "confirmed":
                self._ship(order, delivered=age_days > 12)
            created += 1
        return created

    @transaction.atomic
    def _ship(self, order: Order, *, delivered: bool) -> None:
        for line in order.lines.filter(stock_status="reserved"):
            stock_consume(order_line_id=line.pk, quantity=line.quantity, reference="demo")
        order_fulfillment_set(order_id=order.pk, status="shipped", reason="demo")
        if delivered:
            order_fulfillment_set(order_id=order.pk, status="delivered", reason="demo")


def _replace(order_in: OrderIn, **changes: Any) -> OrderIn:
    from dataclasses import replace

    return replace(order_in, **changes)
