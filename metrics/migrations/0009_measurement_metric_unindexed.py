"""A measurement's metric loses its own index: `measurement_one_per_period` (metric,
period_end) leads with it and answers every lookup by metric."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0008_change_log_measurement_program"),
    ]

    operations = [
        migrations.AlterField(
            model_name="measurement",
            name="metric",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="measurements",
                to="metrics.metric",
            ),
        ),
    ]
