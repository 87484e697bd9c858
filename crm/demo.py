"""Demo builders for after-sales: customers answering the satisfaction survey, customer
service cases in every state, RFM segments.

Through ``crm.services`` only (a survey answer goes through the signed link's token, so
detractors open tickets and promoters get the review request as in real life). crm
knows orders by id only; the demo loader decides which orders and when, and runs each
builder under ``backoffice.demo.demo_clock``."""

from __future__ import annotations

from django.db.models import Q

from crm.models import Notification, SurveyResponse, Ticket
from crm.services import survey_answer, ticket_note_add, ticket_open, ticket_status_set
from crm.services.notifications import survey_token_make
from crm.services.segments import rfm_compute

# Comments customers leave with a score (pt-BR: the demo shop is Brazilian).
COMMENTS = {
    "promoter": [
        "Chegou antes do prazo e muito bem embalado!",
        "Produto excelente, já indiquei para a família.",
        "Atendimento nota 10.",
        "",
        "",
    ],
    "passive": ["Tudo certo, mas o frete poderia ser mais barato.", "Demorou um pouco.", ""],
    "detractor": [
        "A entrega atrasou e ninguém me avisou direito.",
        "A embalagem chegou amassada.",
        "O produto não era como na foto.",
    ],
}

# (subject, body, priority, source, customer-facing story as (status, note) steps)
CASES: list[tuple[str, str, str, str, list[tuple[str, str]]]] = [
    (
        "Troca de endereço de entrega",
        "Mudei de apartamento, é possível alterar o número antes do envio?",
        "normal",
        Ticket.Source.EMAIL,
        [("resolved", "Endereço atualizado antes da separação.")],
    ),
    (
        "Cupom BEMVINDO10 não aplicou",
        "Tentei usar o cupom no checkout e deu erro.",
        "low",
        Ticket.Source.EMAIL,
        [("pending", "Pedimos o print da tela ao cliente.")],
    ),
    (
        "Segunda via da nota fiscal",
        "Preciso da NF-e para reembolso da empresa.",
        "normal",
        Ticket.Source.PHONE,
        [("resolved", "XML e DANFE enviados por e-mail."), ("closed", "")],
    ),
    (
        "Produto veio diferente da foto",
        "A cor da caneca é outra.",
        "high",
        Ticket.Source.EMAIL,
        [],
    ),
    (
        "Prazo de entrega para Recife",
        "Qual o prazo do SEDEX para o CEP 51011-000?",
        "low",
        Ticket.Source.PHONE,
        [("resolved", "Informado: 4 dias úteis."), ("closed", "")],
    ),
    (
        "Cobrança duplicada no cartão",
        "Apareceram duas cobranças iguais na fatura.",
        "urgent",
        Ticket.Source.EMAIL,
        [("pending", "Solicitado extrato ao gateway; aguardando cliente.")],
    ),
]


def score_category(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def demo_survey_answer(*, order_id: int, score: int, comment: str = "") -> SurveyResponse | None:
    """The customer clicks the score in the survey e-mail of ``order_id`` (only once it
    was sent). Detractors open a ticket, promoters get the review request."""
    notification = (
        Notification.objects.filter(
            kind=Notification.Kind.SURVEY, order_id=order_id, status=Notification.Status.SENT
        )
        .filter(Q(survey_response__isnull=True))
        .first()
    )
    if notification is None:
        return None
    token = survey_token_make(notification_id=notification.pk)
    return survey_answer(token=token, score=score, comment=comment)


def demo_case_open(
    *, case: int, customer_id: int | None, order_id: int | None = None
) -> tuple[int, list[tuple[str, str]]]:
    """A customer writes or calls in; returns the ticket id and the steps still to come."""
    subject, body, priority, source, steps = CASES[case % len(CASES)]
    ticket = ticket_open(
        customer_id=customer_id,
        order_id=order_id,
        subject=subject,
        body=body,
        priority=priority,
        source=source,
    )
    return ticket.pk, steps


def demo_case_step(*, ticket_id: int, status: str, note: str = "") -> Ticket:
    """Customer service moves a case along (with an internal note)."""
    if note and status == Ticket.Status.PENDING:
        ticket_note_add(ticket_id=ticket_id, body=note)
        note = ""
    return ticket_status_set(ticket_id=ticket_id, status=status, note=note)


def demo_detractor_followup(*, order_id: int, note: str) -> int:
    """Customer service calls the unhappy customers of ``order_id`` back and resolves."""
    done = 0
    for ticket_id in Ticket.objects.filter(
        order_id=order_id, source=Ticket.Source.SURVEY, status=Ticket.Status.OPEN
    ).values_list("pk", flat=True):
        ticket_status_set(ticket_id=ticket_id, status=Ticket.Status.RESOLVED, note=note)
        done += 1
    return done


def demo_segments() -> int:
    """RFM scores for every customer with orders."""
    return rfm_compute()
