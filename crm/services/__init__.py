"""crm's write API. Customers here; after-sales services in sibling modules."""

from crm.services.customers import customer_update, customer_upsert, document_clean
from crm.services.notifications import (
    marketing_opt_out,
    notification_queue,
    notification_retry,
    notification_send,
    notification_sweep,
)
from crm.services.surveys import survey_answer
from crm.services.tickets import (
    ticket_assign,
    ticket_note_add,
    ticket_open,
    ticket_priority_set,
    ticket_status_set,
)

__all__ = [
    "customer_update",
    "customer_upsert",
    "document_clean",
    "marketing_opt_out",
    "notification_queue",
    "notification_retry",
    "notification_send",
    "notification_sweep",
    "survey_answer",
    "ticket_assign",
    "ticket_note_add",
    "ticket_open",
    "ticket_priority_set",
    "ticket_status_set",
]
