"""Write API of finance. Import from here: ``from finance.services import payable_pay``."""

from finance.services.daily_rollup import (
    DailyRollupBusy,
    daily_rollup_fill,
    daily_rollup_nightly,
    daily_rollup_refresh,
)
from finance.services.fiscal_documents import fiscal_document_issue
from finance.services.ledger import cash_entry_record, cash_transfer
from finance.services.management_report import (
    management_report_email,
    management_report_generate,
)
from finance.services.payables import (
    payable_cancel,
    payable_create,
    payable_create_for_purchase_order,
    payable_pay,
)
from finance.services.receivables import (
    instalment_settle,
    receivable_create_for_order,
    receivable_instalments_cancel,
    refund_record,
)
from finance.services.reconciliation import PayoutFileError, payout_file_parse, payout_import

__all__ = [
    "DailyRollupBusy",
    "PayoutFileError",
    "cash_entry_record",
    "cash_transfer",
    "daily_rollup_fill",
    "daily_rollup_nightly",
    "daily_rollup_refresh",
    "fiscal_document_issue",
    "instalment_settle",
    "management_report_email",
    "management_report_generate",
    "payable_cancel",
    "payable_create",
    "payable_create_for_purchase_order",
    "payable_pay",
    "payout_file_parse",
    "payout_import",
    "receivable_create_for_order",
    "receivable_instalments_cancel",
    "refund_record",
]
