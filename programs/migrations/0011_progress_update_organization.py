"""Progress updates carry their initiative's organization (docs/performance.md, sixth round):
add it, fill it from each row's initiative, then require it and index an organization's list
order in place of the list order across organizations."""

import django.db.models.deletion
from django.db import migrations, models

# One statement per table. PostgreSQL joins; elsewhere the portable form.
_FILL = {
    "postgresql": """
        UPDATE {table} AS u SET organization_id = p.organization_id
        FROM programs_initiative AS i JOIN programs_program AS p ON p.id = i.program_id
        WHERE i.id = u.initiative_id
    """,
    "default": """
        UPDATE {table} SET organization_id = (
            SELECT p.organization_id FROM programs_initiative AS i JOIN programs_program AS p ON p.id = i.program_id
            WHERE i.id = {table}.initiative_id
        )
    """,
}


def fill_organization(apps, schema_editor):
    sql = _FILL.get(schema_editor.connection.vendor, _FILL["default"])
    for table in ("programs_progressupdate", "programs_historicalprogressupdate"):
        schema_editor.execute(sql.format(table=table))


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0010_list_order_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalprogressupdate",
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
            model_name="progressupdate",
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
            model_name="progressupdate",
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
            model_name="progressupdate",
            name="progress_list_order",
        ),
        migrations.AddIndex(
            model_name="progressupdate",
            index=models.Index(fields=["organization", "-reported_on", "-id"], name="progress_org_list"),
        ),
    ]
