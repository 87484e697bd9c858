from typing import Any

from django.core.management.base import BaseCommand

from logistics.reference import logistics_reference_seed


class Command(BaseCommand):
    help = "Create Correios (PAC, SEDEX), Jadlog, transit times by CEP region and holidays."

    def handle(self, *args: Any, **options: Any) -> None:
        result = logistics_reference_seed()
        self.stdout.write(self.style.SUCCESS(f"Logistics reference data: {result}"))
