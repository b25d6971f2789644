"""Measurements carry their metric's organization (docs/performance.md): add it, fill it from
each row's metric, then require it and index an organization's list order."""

import django.db.models.deletion
from django.db import migrations, models

# One statement per table. PostgreSQL joins (a correlated subquery per row would be an index
# probe for each of millions of rows); elsewhere the portable form.
_FILL = {
    "postgresql": """
        UPDATE {table} AS m SET organization_id = p.organization_id
        FROM metrics_metric AS mt JOIN programs_program AS p ON p.id = mt.program_id
        WHERE mt.id = m.metric_id
    """,
    "default": """
        UPDATE {table} SET organization_id = (
            SELECT p.organization_id FROM metrics_metric AS mt JOIN programs_program AS p ON p.id = mt.program_id
            WHERE mt.id = {table}.metric_id
        )
    """,
}


def fill_organization(apps, schema_editor):
    sql = _FILL.get(schema_editor.connection.vendor, _FILL["default"])
    for table in ("metrics_measurement", "metrics_historicalmeasurement"):
        schema_editor.execute(sql.format(table=table))


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0005_history_reason_text"),
        ("programs", "0008_person_low_medium_emails"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalmeasurement",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="programs.organization",
            ),
        ),
        migrations.AddField(
            model_name="measurement",
            name="organization",
            # No constraint until it is filled: a deferred foreign-key check queued by the
            # fill would stop PostgreSQL altering the table in the same transaction.
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="programs.organization",
            ),
        ),
        migrations.RunPython(fill_organization, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="measurement",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="programs.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="measurement",
            index=models.Index(fields=["organization", "metric", "-period_end"], name="measurement_org_list"),
        ),
    ]
