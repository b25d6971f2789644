"""Forum sessions carry their forum's organization (docs/performance.md, seventh round), as
their attendance and agenda items do: add it, fill it from each row's forum, then require it
and index an organization's list order in place of the list order across organizations."""

import django.db.models.deletion
from django.db import migrations, models

# One statement per table. PostgreSQL joins; elsewhere the portable form.
_FILL = {
    "postgresql": """
        UPDATE {table} AS s SET organization_id = p.organization_id
        FROM accountability_forum AS f JOIN programs_program AS p ON p.id = f.program_id
        WHERE f.id = s.forum_id
    """,
    "default": """
        UPDATE {table} SET organization_id = (
            SELECT p.organization_id FROM accountability_forum AS f JOIN programs_program AS p ON p.id = f.program_id
            WHERE f.id = {table}.forum_id
        )
    """,
}


def fill_organization(apps, schema_editor):
    sql = _FILL.get(schema_editor.connection.vendor, _FILL["default"])
    for table in ("accountability_forumsession", "accountability_historicalforumsession"):
        schema_editor.execute(sql.format(table=table))


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0015_list_order_indexes"),
        ("programs", "0011_progress_update_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalforumsession",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="programs.organization",
            ),
        ),
        migrations.AddField(
            model_name="forumsession",
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
            model_name="forumsession",
            name="organization",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="programs.organization",
            ),
        ),
        migrations.RemoveIndex(
            model_name="forumsession",
            name="session_list_order",
        ),
        migrations.AddIndex(
            model_name="forumsession",
            index=models.Index(fields=["organization", "-scheduled_for", "-id"], name="session_org_list"),
        ),
    ]
