"""Flags get `closed_on`, the day they stopped being open (SPEC §2, "open on D").

Flags closed before this migration get it from what they recorded: the date of
`resolved_at` (the day a person acted, or the day the resolving scan ran), never earlier
than `last_detected_on` (the last day a scan still found the condition); without a
`resolved_at`, `last_detected_on` itself. Migration 0006 then adds the constraint that a
flag is closed exactly when it has a `closed_on` (a separate migration: PostgreSQL
refuses to alter a table in the transaction that just updated its rows).
"""

from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import TruncDate

LIVE = ("open", "acknowledged")


def backfill_closed_on(apps, schema_editor):
    Flag = apps.get_model("accountability", "Flag")
    closed = Flag.objects.exclude(status__in=LIVE)
    closed.filter(resolved_at__isnull=False).update(closed_on=TruncDate("resolved_at"))
    closed.filter(resolved_at__isnull=True).update(closed_on=F("last_detected_on"))
    closed.filter(closed_on__lt=F("last_detected_on")).update(closed_on=F("last_detected_on"))


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0004_move_notifications_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="flag",
            name="closed_on",
            field=models.DateField(
                blank=True,
                help_text="The day it stopped being open: the as_of of the scan that resolved it, or the day a "
                "person resolved or dismissed it. Empty while open or acknowledged.",
                null=True,
            ),
        ),
        migrations.RunPython(backfill_closed_on, migrations.RunPython.noop, elidable=False),
    ]
