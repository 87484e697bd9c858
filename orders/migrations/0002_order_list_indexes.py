"""Indexes for the order list at any size (docs/benchmarks.md, "Orders at scale").

The list's order (-placed_at, -id) gets an index of its own, and the status and channel
indexes take the id as their last column, so a page, a late page or the admin's capped
count walks one index in the list's order (placed_at's single-column index goes: the new
one serves its ranges). For search (orders.selectors.order_search_filter): upper() indexes on the order's number, platform id and e-mail (all databases), and, on
PostgreSQL only, the customer-side ones that search joins through: a trigram index on
upper(crm_customer.name) for "name contains" (pg_trgm) and an upper(e-mail) index. They
live here, not in crm, because the order search is what needs them; on SQLite (the
embedded mode) those two are skipped.
"""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

CUSTOMER_INDEXES = [
    (
        "order_search_customer_name_trgm",
        "CREATE INDEX IF NOT EXISTS order_search_customer_name_trgm "
        "ON crm_customer USING gin (upper(name::text) gin_trgm_ops)",
    ),
    (
        "order_search_customer_email_upper",
        "CREATE INDEX IF NOT EXISTS order_search_customer_email_upper "
        "ON crm_customer (upper(email::text))",
    ),
]


def create_customer_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _name, sql in CUSTOMER_INDEXES:
        schema_editor.execute(sql)


def drop_customer_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in CUSTOMER_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_after_sales"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["-placed_at", "-id"], name="order_placed_id"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["status", "-placed_at", "-id"], name="order_status_placed_id"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["channel", "-placed_at", "-id"], name="order_channel_placed_id"
            ),
        ),
        migrations.RemoveIndex(model_name="order", name="order_status_placed"),
        migrations.RemoveIndex(model_name="order", name="order_channel_placed"),
        migrations.AlterField(
            model_name="order",
            name="placed_at",
            field=models.DateTimeField(verbose_name="placed at"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Upper("number"), name="order_number_upper"
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Upper("external_id"),
                name="order_external_id_upper",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                django.db.models.functions.text.Upper("email"), name="order_email_upper"
            ),
        ),
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on SQLite
        migrations.RunPython(create_customer_indexes, drop_customer_indexes),
    ]
