"""Demo builders for finance: cash accounts with opening balances, gateway payouts that
settle the receivables, sweeps to the bank, supplier bills paid (or left overdue), NF-e
data through the configured (local) provider, campaign costs, goals and store traffic.

Money moves through ``finance.services`` only, so the ledger stays append-only and every
balance is the sum of its entries. Receivables are not built here: the
``OrderStatusChanged(paid)`` handler creates them as orders are paid. Goals, campaign
costs and store metrics are figures staff type into the admin; the demo enters them the
same way (plain rows). Each builder acts at ``timezone.now()``; the demo loader runs it
under ``backoffice.demo.demo_clock``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from finance.models import (
    CampaignCost,
    CashAccount,
    CashEntry,
    FiscalDocument,
    Instalment,
    ManagementReport,
    MonthlyGoal,
    Payable,
    StoreMetrics,
)
from finance.selectors import cash_account_balance, month_end
from finance.services import (
    cash_entry_record,
    cash_transfer,
    fiscal_document_issue,
    instalment_settle,
    management_report_generate,
    payable_create,
    payable_pay,
)
from inventory.models import Supplier
from orders.models import Order

# (name, kind, opening balance)
ACCOUNTS = [
    ("Banco Itaú — conta corrente", CashAccount.Kind.BANK, Decimal("25000.00")),
    ("Pagar.me — saldo", CashAccount.Kind.GATEWAY, Decimal("0.00")),
    ("Caixa da loja Pinheiros", CashAccount.Kind.PETTY_CASH, Decimal("1500.00")),
]

# (supplier, CNPJ, monthly bill description, typical amount, due day)
SUPPLIERS = [
    ("Imobiliária Guarulhos Ltda.", "12.345.678/0001-95", "Aluguel do CD Guarulhos", "1800.00", 5),
    ("Torrefação Serra Azul Ltda.", "23.456.789/0001-00", "Café em grãos e moído", "1900.00", 12),
    (
        "Cosméticos Naturais da Amazônia S.A.",
        "34.567.890/0001-10",
        "Cosméticos naturais",
        "1500.00",
        18,
    ),
    ("PetFood Brasil Distribuidora", "45.678.901/0001-20", "Rações e petiscos", "2400.00", 22),
    ("Empresa Brasileira de Correios", "34.028.316/0001-03", "Fatura de fretes", "1400.00", 10),
    ("Agência Pixel Digital", "56.789.012/0001-30", "Gestão de mídia paga", "700.00", 25),
]


def demo_accounts() -> dict[str, int]:
    """The shop's accounts ("bank", "gateway", "petty_cash" -> id), each with its opening
    balance booked once."""
    ids = {}
    for name, kind, opening in ACCOUNTS:
        account, _ = CashAccount.objects.get_or_create(
            name=name, defaults={"kind": kind, "currency": "BRL"}
        )
        if opening and not CashEntry.objects.filter(account=account).exists():
            cash_entry_record(
                account_id=account.pk,
                amount=opening,
                kind=CashEntry.Kind.OPENING,
                description="Saldo inicial",
            )
        ids[str(kind)] = account.pk
    return ids


def demo_payouts(*, account_id: int, held_order_ids: frozenset[int] = frozenset()) -> int:
    """The gateway pays out every open instalment due by today into ``account_id``,
    except those of ``held_order_ids`` (disputed: they stay open and become overdue)."""
    today = timezone.localdate()
    due = (
        Instalment.objects.filter(status=Instalment.Status.OPEN, due_date__lte=today)
        .exclude(receivable__order_id__in=held_order_ids)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    settled = 0
    for instalment_id in list(due):
        instalment_settle(instalment_id=instalment_id, account_id=account_id)
        settled += 1
    return settled


def demo_sweep(*, from_account_id: int, to_account_id: int, keep: Decimal) -> Decimal:
    """Move what the gateway holds beyond ``keep`` to the bank."""
    amount = cash_account_balance(account_id=from_account_id) - keep
    if amount < Decimal("100.00"):
        return Decimal("0.00")
    amount = amount.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    cash_transfer(
        from_account_id=from_account_id,
        to_account_id=to_account_id,
        amount=amount,
        description="Saque do gateway para a conta corrente",
    )
    return amount


def demo_bills(*, month: date, factor: Decimal) -> list[tuple[int, date]]:
    """This month's supplier bills (amount ~ ``factor`` × typical); returns (id, due)."""
    out = []
    for i, (name, cnpj, description, amount, due_day) in enumerate(SUPPLIERS):
        supplier, _ = Supplier.objects.get_or_create(name=name, defaults={"document": cnpj})
        due = month.replace(day=min(due_day, month_end(month).day))
        fixed = i == 0  # the rent does not vary
        value = Decimal(amount) if fixed else (Decimal(amount) * factor).quantize(Decimal("0.01"))
        payable = payable_create(
            description=f"{description} — {month:%m/%Y}",
            amount=value,
            due_date=due,
            supplier_id=supplier.pk,
            document_number=f"NF {month:%y%m}{i + 1:03d}",
        )
        out.append((payable.pk, due))
    return out


def demo_bill_pay(*, payable_id: int, account_id: int) -> bool:
    if not Payable.objects.filter(pk=payable_id, status=Payable.Status.OPEN).exists():
        return False
    payable_pay(payable_id=payable_id, account_id=account_id)
    return True


def demo_invoice(*, order_id: int) -> FiscalDocument:
    """The NF-e data of an order about to ship (local provider: never authorized)."""
    return fiscal_document_issue(order_id=order_id)


def demo_campaign_costs(*, weekly: dict[str, Decimal]) -> int:
    """The media agency's weekly charge for each utm_campaign that brought orders in the
    last seven days."""
    today = timezone.localdate()
    campaigns = set(
        Order.objects.filter(placed_at__gte=timezone.now() - timedelta(days=7))
        .exclude(utm_campaign="")
        .values_list("utm_campaign", flat=True)
    )
    rows = [
        CampaignCost(
            campaign=campaign,
            date=today,
            amount=weekly[campaign],
            description="Mídia paga da semana",
        )
        for campaign in sorted(campaigns)
        if weekly.get(campaign)
    ]
    CampaignCost.objects.bulk_create(rows)
    return len(rows)


def demo_goals(*, months: list[date], first: Decimal, growth: Decimal) -> list[MonthlyGoal]:
    """A revenue goal per month, set ahead: ``first`` for the first month, ``growth``
    more each month after (rounded to R$ 100)."""
    goals = []
    value = first
    for month in sorted(months):
        goal, _ = MonthlyGoal.objects.get_or_create(
            month=month, defaults={"revenue_goal": value.quantize(Decimal("1E2"))}
        )
        goals.append(goal)
        value *= growth
    return goals


def demo_report(*, month: date) -> ManagementReport:
    """The monthly report job of the 1st: ``month``'s PDF, stored for the admin."""
    return management_report_generate(month=month)


def demo_store_metrics(*, month: date, conversion: Decimal, carts_per_order: Decimal) -> None:
    """Sessions and carts the store platform reported for ``month``."""
    orders = Order.objects.filter(
        placed_at__date__gte=month, placed_at__date__lte=month_end(month)
    ).count()
    StoreMetrics.objects.get_or_create(
        month=month,
        defaults={
            "orders": orders,
            "carts": int(orders * carts_per_order),
            "sessions": int(orders / conversion) if conversion else 0,
        },
    )
