"""An index on logistics_shipment (delivered_at), for the report's on-time rate: the
deliveries of a day (the daily rollup's fill) or of the days it sums live (today, stale
days) are read by it instead of a scan of every shipment. It lives here, not in
logistics, because finance's report is what needs it (as orders 0002 does for crm)."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS finance_shipment_delivered_at "
    "ON logistics_shipment (delivered_at) WHERE delivered_at IS NOT NULL"
)
DROP = "DROP INDEX IF EXISTS finance_shipment_delivered_at"


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0002_daily_rollup"),
        ("logistics", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
