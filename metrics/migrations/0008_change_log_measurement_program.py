"""Change-log entries of measurements name their program again.

From 0006 a measurement carried its organization, and the change log, which derived a row's
program from its organization path, wrote the entries of measurement changes with no
program (so a program's history left them out). The path now names the program
(`metric__program`); this fills the entries written in between from each snapshot's metric.
An entry whose metric was deleted since keeps no program, as the log had it.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def name_the_program(apps, schema_editor):
    Change = apps.get_model("programs", "Change")
    Snapshot = apps.get_model("metrics", "HistoricalMeasurement")
    program_of = Snapshot.objects.filter(history_id=OuterRef("history_id")).values("metric__program_id")[:1]
    Change.objects.filter(model="metrics.measurement", program__isnull=True).update(program_id=Subquery(program_of))


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0007_history_organization_unindexed"),
        ("programs", "0008_person_low_medium_emails"),
    ]

    operations = [migrations.RunPython(name_the_program, migrations.RunPython.noop, elidable=True)]
