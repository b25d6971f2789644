"""The constraint that a flag is closed exactly when it has a `closed_on` (backfilled by 0005),
and the index the reads "open on D" of a program use."""

from django.db import migrations, models

LIVE = ("open", "acknowledged")


class Migration(migrations.Migration):
    dependencies = [
        ("accountability", "0005_flag_closed_on"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="flag",
            index=models.Index(fields=["program", "first_detected_on", "closed_on"], name="flag_program_days"),
        ),
        migrations.AddConstraint(
            model_name="flag",
            constraint=models.CheckConstraint(
                condition=models.Q(("closed_on__isnull", True), ("status__in", LIVE))
                | models.Q(models.Q(("status__in", LIVE), _negated=True), ("closed_on__isnull", False)),
                name="flag_closed_on_iff_closed",
            ),
        ),
    ]
