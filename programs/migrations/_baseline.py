"""Baseline snapshots for models that start being tracked by django-simple-history.

Without them the first change of an existing row would have nothing to compare with, and
"as of" reads before it would find no record. Each existing row gets one `+` snapshot
dated when the migration runs, with no actor and the reason below (who created it before
history existed is not known, and the snapshot says so). Not change-log entries: nothing
changed. Streams the rows in batches; safe on a database with millions of rows.
"""

from django.utils import timezone

REASON = "baseline: history starts here (row existed before it was tracked)"
BATCH = 2000


def baseline(app_label: str, model_names: list[str]):
    def run(apps, schema_editor) -> None:
        now = timezone.now()
        for name in model_names:
            model = apps.get_model(app_label, name)
            historical = apps.get_model(app_label, f"Historical{name}")
            copied = [
                f.attname
                for f in historical._meta.concrete_fields
                if not f.attname.startswith("history_") and not getattr(f, "generated", False)
            ]
            batch = []
            for row in model._base_manager.values(*copied).iterator(chunk_size=BATCH):
                batch.append(historical(**row, history_date=now, history_type="+", history_change_reason=REASON))
                if len(batch) >= BATCH:
                    historical._base_manager.bulk_create(batch)
                    batch = []
            if batch:
                historical._base_manager.bulk_create(batch)

    return run
