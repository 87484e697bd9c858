"""Reference data a Brazilian shop starts with: Correios (PAC, SEDEX) and one private
carrier, transit times by CEP region from a warehouse in São Paulo, national holidays.

Idempotent (get_or_create); staff adjust the numbers in the admin. The transit days are
typical values, not a carrier's contract: replace them with your own table.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from logistics.models import Carrier, Holiday, ShippingMethod, TransitTime

# First CEP digits -> region; business days (PAC, SEDEX, private) from São Paulo.
REGIONS: list[tuple[str, str, str, tuple[int, int, int]]] = [
    ("01000000", "09999999", "SP capital and metro", (3, 1, 2)),
    ("10000000", "19999999", "SP interior", (5, 2, 3)),
    ("20000000", "29999999", "RJ, ES", (6, 2, 4)),
    ("30000000", "39999999", "MG", (6, 2, 4)),
    ("40000000", "49999999", "BA, SE", (9, 4, 6)),
    ("50000000", "59999999", "PE, AL, PB, RN", (10, 4, 7)),
    ("60000000", "69999999", "CE, PI, MA, PA, AP, AM, RR, AC", (12, 5, 9)),
    ("70000000", "79999999", "DF, GO, TO, MT, MS, RO", (8, 3, 5)),
    ("80000000", "89999999", "PR, SC", (6, 2, 4)),
    ("90000000", "99999999", "RS", (7, 3, 5)),
]

NATIONAL_HOLIDAYS_2026 = [
    (date(2026, 1, 1), "Confraternização Universal"),
    (date(2026, 2, 16), "Carnaval"),
    (date(2026, 2, 17), "Carnaval"),
    (date(2026, 4, 3), "Sexta-feira Santa"),
    (date(2026, 4, 21), "Tiradentes"),
    (date(2026, 5, 1), "Dia do Trabalho"),
    (date(2026, 6, 4), "Corpus Christi"),
    (date(2026, 9, 7), "Independência do Brasil"),
    (date(2026, 10, 12), "Nossa Senhora Aparecida"),
    (date(2026, 11, 2), "Finados"),
    (date(2026, 11, 15), "Proclamação da República"),
    (date(2026, 11, 20), "Dia Nacional de Zumbi e da Consciência Negra"),
    (date(2026, 12, 25), "Natal"),
]


@transaction.atomic
def logistics_reference_seed() -> dict[str, int]:
    """Create the carriers, methods, transit tables and holidays that are missing."""
    correios, _ = Carrier.objects.get_or_create(
        slug="correios",
        defaults={
            "name": "Correios",
            "kind": Carrier.Kind.CORREIOS,
            "tracking_url_template": "https://rastreamento.correios.com.br/app/index.php?objeto={code}",
        },
    )
    jadlog, _ = Carrier.objects.get_or_create(
        slug="jadlog",
        defaults={
            "name": "Jadlog",
            "kind": Carrier.Kind.PRIVATE,
            "tracking_url_template": "https://www.jadlog.com.br/jadlog/tracking?cte={code}",
        },
    )
    methods = [
        ShippingMethod.objects.get_or_create(
            carrier=correios, code="pac", defaults={"name": "PAC", "default_transit_days": 12}
        )[0],
        ShippingMethod.objects.get_or_create(
            carrier=correios, code="sedex", defaults={"name": "SEDEX", "default_transit_days": 5}
        )[0],
        ShippingMethod.objects.get_or_create(
            carrier=jadlog,
            code="package",
            defaults={"name": ".Package", "default_transit_days": 9},
        )[0],
    ]
    ranges = 0
    for cep_from, cep_to, _label, days in REGIONS:
        for method, business_days in zip(methods, days, strict=True):
            _row, created = TransitTime.objects.get_or_create(
                method=method,
                cep_from=cep_from,
                cep_to=cep_to,
                defaults={"business_days": business_days},
            )
            ranges += created
    holidays = 0
    for day, name in NATIONAL_HOLIDAYS_2026:
        holidays += Holiday.objects.get_or_create(date=day, defaults={"name": name})[1]
    return {"carriers": Carrier.objects.count(), "transit_ranges": ranges, "holidays": holidays}
