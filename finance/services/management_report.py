"""Generate, store and e-mail the monthly management report."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.errors import ConflictError, NotFoundError
from backoffice.roles import MANAGER
from finance.models import ManagementReport
from finance.reports import report_pdf
from finance.selectors import month_start
from finance.services.common import audit


def management_report_generate(*, month: date) -> ManagementReport:
    """Render the report of ``month`` and store it (replacing an earlier file).

    The PDF is rendered outside any transaction (it takes a while); the row is updated
    under a lock afterwards. A failure is recorded on the row (status failed, error) and
    re-raised so a task can retry."""
    month = month_start(month)
    ManagementReport.objects.get_or_create(month=month)
    try:
        pdf = report_pdf(month)
    except Exception as exc:
        with transaction.atomic():
            report = ManagementReport.objects.select_for_update().get(month=month)
            old = report.status
            report.status = ManagementReport.Status.FAILED
            report.error = f"{type(exc).__name__}: {exc}"[:2000]
            report.save(update_fields=["status", "error"])
            audit(obj=report, action="failed", from_value=old, to_value=report.status)
        raise
    with transaction.atomic():
        report = ManagementReport.objects.select_for_update().get(month=month)
        old_name = report.file.name if report.file else ""
        report.file.save(f"management-report-{month:%Y-%m}.pdf", ContentFile(pdf), save=False)
        old = report.status
        report.status = ManagementReport.Status.READY
        report.generated_at = timezone.now()
        report.error = ""
        report.save(update_fields=["file", "status", "generated_at", "error"])
        audit(obj=report, action="generated", from_value=old, to_value=report.status)
    if old_name and old_name != report.file.name:
        report.file.storage.delete(old_name)
    return report


def manager_emails() -> list[str]:
    """E-mails of active users in the Manager group."""
    users = get_user_model().objects.filter(groups__name=MANAGER, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def management_report_email(*, report_id: int) -> int:
    """E-mail a ready report to the managers, once: the row is claimed by a conditional
    UPDATE (emailed_at IS NULL) before sending, and released again if sending fails.
    Returns the number of recipients (0 when already sent or nobody to send to)."""
    report = ManagementReport.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFoundError(_("Report not found."))
    if report.status != ManagementReport.Status.READY or not report.file:
        raise ConflictError(_("The report is not ready."))
    recipients = manager_emails()
    if not recipients:
        return 0
    claimed = ManagementReport.objects.filter(pk=report.pk, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return 0
    try:
        with report.file.open("rb") as fh:
            content = fh.read()
        message = EmailMessage(
            subject=_("%(store)s: management report %(month)s")
            % {"store": settings.STORE_NAME, "month": f"{report.month:%m/%Y}"},
            body=_("The management report of %(month)s is attached.")
            % {"month": f"{report.month:%m/%Y}"},
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
        )
        message.attach(f"management-report-{report.month:%Y-%m}.pdf", content, "application/pdf")
        message.send()
    except Exception:
        ManagementReport.objects.filter(pk=report.pk).update(emailed_at=None)
        raise
    audit(obj=report, action="emailed", message=", ".join(recipients))
    return len(recipients)
