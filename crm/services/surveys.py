"""Satisfaction survey (NPS 0-10): signed single-use links, answers and what follows them.

The survey e-mail is an outbox row scheduled SURVEY_DELAY_DAYS after delivery (see
notifications). Its link carries ``TimestampSigner`` over the notification id: forged or
older than SURVEY_TOKEN_MAX_AGE_DAYS -> invalid; a second answer -> already answered.
A detractor (0-6) opens a ticket; a promoter (9-10) gets a review request.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from backoffice.errors import ApplicationError, ConflictError
from crm.models import Notification, SurveyResponse
from crm.services.audit import audit_record
from crm.services.notifications import SURVEY_SALT, notification_queue
from crm.services.tickets import ticket_open


class SurveyTokenInvalid(ApplicationError):
    """Forged, malformed or expired link."""


class SurveyAlreadyAnswered(ConflictError):
    pass


@dataclass(frozen=True)
class SurveyInfo:
    notification: Notification
    response: SurveyResponse | None


def survey_token_read(token: str) -> int:
    """The survey notification id in ``token``; raises SurveyTokenInvalid."""
    max_age = getattr(settings, "SURVEY_TOKEN_MAX_AGE_DAYS", 30) * 86400
    try:
        value = signing.TimestampSigner(salt=SURVEY_SALT).unsign(token, max_age=max_age)
        return int(value)
    except signing.SignatureExpired as exc:
        raise SurveyTokenInvalid(_("This survey link has expired.")) from exc
    except (signing.BadSignature, ValueError) as exc:
        raise SurveyTokenInvalid(_("This survey link is not valid.")) from exc


def survey_lookup(*, token: str) -> SurveyInfo:
    notification_id = survey_token_read(token)
    notification = (
        Notification.objects.filter(pk=notification_id, kind=Notification.Kind.SURVEY)
        .select_related("customer")
        .first()
    )
    if notification is None:
        raise SurveyTokenInvalid(_("This survey link is not valid."))
    response = SurveyResponse.objects.filter(notification=notification).first()
    return SurveyInfo(notification=notification, response=response)


def survey_answer(*, token: str, score: int, comment: str = "") -> SurveyResponse:
    """Record the one answer this link allows, then act on it (ticket / review request)."""
    if not isinstance(score, int) or not 0 <= score <= 10:
        raise ApplicationError(
            _("Choose a score from 0 to 10."), errors=[{"field": "score", "message": str(score)}]
        )
    with transaction.atomic():
        info = survey_lookup(token=token)
        notification = info.notification
        if info.response is not None:
            raise SurveyAlreadyAnswered(_("This survey was already answered. Thank you!"))
        try:
            with transaction.atomic():
                response = SurveyResponse.objects.create(
                    notification=notification,
                    customer_id=notification.customer_id,
                    order_id=notification.order_id,
                    score=score,
                    comment=comment.strip()[:5000],
                )
        except IntegrityError as exc:
            raise SurveyAlreadyAnswered(_("This survey was already answered. Thank you!")) from exc
        audit_record(
            action="survey_answer",
            object_type="survey_response",
            object_id=response.pk,
            customer_id=notification.customer_id,
            data={"score": score, "order_id": notification.order_id},
        )
        context = notification.context or {}
        order_number = context.get("order_number", "")
        if response.category == "detractor":
            ticket_open(
                customer_id=notification.customer_id,
                order_id=notification.order_id,
                subject=f"NPS {score}/10 — #{order_number}" if order_number else f"NPS {score}/10",
                body=response.comment,
                priority="high",
                source="survey",
                dedupe_key=f"survey:{response.pk}",
            )
        elif response.category == "promoter":
            anchor = (
                f"order:{notification.order_id}"
                if notification.order_id
                else f"n:{notification.pk}"
            )
            notification_queue(
                kind=Notification.Kind.REVIEW_REQUEST,
                to_email=notification.to_email,
                language=notification.language,
                dedupe_key=f"{anchor}:review_request",
                context=dict(context),
                customer_id=notification.customer_id,
                order_id=notification.order_id,
            )
    return response
