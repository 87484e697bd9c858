"""Index on orders_order (paid_at): the sales of a period are the orders paid in it
(finance.selectors.sales_filter), read by the monthly management report and, one day at a
time, by the daily sales rollup (finance migration 0002, docs/benchmarks.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_order_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["paid_at"], name="order_paid_at"),
        ),
    ]
