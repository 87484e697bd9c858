import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backoffice.errors import ApplicationError
from finance.selectors import daily_rollup_enabled
from finance.services import daily_rollup_refresh


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Fill the daily sales rollup that the management report reads, for the days of "
        "--from..--to (default: up to yesterday) that are missing or stale; with --force, "
        "every day. Run it once on an existing install, and after a bulk load that "
        "bypassed the triggers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--force", action="store_true", help="refill valid days too")

    def handle(self, *args, **options):
        start = _day(options["start"])
        end = (
            _day(options["end"]) if options.get("end") else timezone.localdate() - timedelta(days=1)
        )
        if end < start:
            raise CommandError("--to is before --from")
        if not daily_rollup_enabled():
            self.stdout.write(
                "The sales rollup needs PostgreSQL: on this database the report sums "
                "every day from the orders. Nothing to fill."
            )
            return
        t0 = time.perf_counter()
        try:
            filled = daily_rollup_refresh(start=start, end=end, force=options["force"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - t0
        if filled:
            self.stdout.write(
                f"filled {len(filled)} day(s), {filled[0]}..{filled[-1]}, in {seconds:.1f}s"
            )
        else:
            self.stdout.write("nothing to fill: every day of the range is up to date")
