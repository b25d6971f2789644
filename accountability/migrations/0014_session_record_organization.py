"""Attendance and agenda items carry their session's organization (docs/performance.md):
add it, fill it from each row's session, then require it and index an organization's list
order. Their snapshots keep it too, unindexed."""

import django.db.models.deletion
from django.db import migrations, models

# One statement per table. PostgreSQL joins (a correlated subquery per row would be an index
# probe for each row); elsewhere the portable form.
_FILL = {
    "postgresql": """
        UPDATE {table} AS r SET organization_id = p.organization_id
        FROM accountability_forumsession AS s
        JOIN accountability_forum AS f ON f.id = s.forum_id
        JOIN programs_program AS p ON p.id = f.program_id
        WHERE s.id = r.session_id
    """,
    "default": """
        UPDATE {table} SET organization_id = (
            SELECT p.organization_id FROM accountability_forumsession AS s
            JOIN accountability_forum AS f ON f.id = s.forum_id
            JOIN programs_program AS p ON p.id = f.program_id
            WHERE s.id = {table}.session_id
        )
    """,
}
_TABLES = (
    "accountability_attendance",
    "accountability_historicalattendance",
    "accountability_agendaitem",
    "accountability_historicalagendaitem",
)


def fill_organization(apps, schema_editor):
    sql = _FILL.get(schema_editor.connection.vendor, _FILL["default"])
    for table in _TABLES:
        schema_editor.execute(sql.format(table=table))


def _snapshot_field():
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        db_index=False,
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to="programs.organization",
    )


def _row_field(*, null: bool):
    # No constraint until it is filled: a deferred foreign-key check queued by the fill
    # would stop PostgreSQL altering the table in the same transaction.
    extra = {"null": True, "db_constraint": False} if null else {}
    return models.ForeignKey(
        db_index=False,
        editable=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="programs.organization",
        **extra,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0013_flag_fillfactor"),
        ("programs", "0009_change_references_unindexed"),
    ]

    operations = [
        migrations.AddField(model_name="historicalattendance", name="organization", field=_snapshot_field()),
        migrations.AddField(model_name="historicalagendaitem", name="organization", field=_snapshot_field()),
        migrations.AddField(model_name="attendance", name="organization", field=_row_field(null=True)),
        migrations.AddField(model_name="agendaitem", name="organization", field=_row_field(null=True)),
        migrations.RunPython(fill_organization, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(model_name="attendance", name="organization", field=_row_field(null=False)),
        migrations.AlterField(model_name="agendaitem", name="organization", field=_row_field(null=False)),
        migrations.AddIndex(
            model_name="attendance",
            index=models.Index(fields=["organization", "session", "id"], name="attendance_org_list"),
        ),
        migrations.AddIndex(
            model_name="agendaitem",
            index=models.Index(fields=["organization", "session", "id"], name="agenda_item_org_list"),
        ),
    ]
