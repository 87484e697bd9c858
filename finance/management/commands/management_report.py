from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backoffice.errors import ApplicationError
from finance.reports import report_pdf
from finance.selectors import parse_month
from finance.services import management_report_generate


class Command(BaseCommand):
    help = (
        "Generate the monthly management report. With --out, write the PDF to that file "
        "(nothing is stored); without, store it as the month's ManagementReport."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-10")
        parser.add_argument("--out", help="write the PDF here instead of storing it")

    def handle(self, *args, **options):
        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(f"--month must look like 2026-10: {exc}") from exc
        try:
            if options.get("out"):
                path = Path(options["out"])
                path.write_bytes(report_pdf(month))
                self.stdout.write(f"wrote {path}")
                return
            report = management_report_generate(month=month)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"report {report.month:%Y-%m}: {report.status} {report.file.name}")
