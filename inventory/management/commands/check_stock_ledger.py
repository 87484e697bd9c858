"""Prove the stock levels match the movement ledger and the open reservations."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import stock_ledger_check


class Command(BaseCommand):
    help = (
        "Check that every stock level equals the sum of its movements (on hand and "
        "reserved) and that reserved equals the unshipped units of its active "
        "reservations. Exits non-zero when anything differs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = stock_ledger_check()
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} stock level(s) disagree with the ledger.")
        self.stdout.write(self.style.SUCCESS("Stock levels agree with the ledger."))
