"""accountability 0005: flags closed before `closed_on` existed get it from what they recorded."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accountability", "0004_move_notifications_out")]
AFTER = [("accountability", "0006_flag_closed_on_constraint")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_closed_flags_get_their_closing_day_and_open_ones_none(organization):
    apps = _migrate(BEFORE)
    try:
        Flag = apps.get_model("accountability", "Flag")
        Program = apps.get_model("programs", "Program")
        program = Program.objects.create(organization_id=organization.pk, name="Old program")
        common = {
            "organization_id": organization.pk,
            "program_id": program.pk,
            "kind": "no_business_outcome",
            "severity": "high",
            "subject_type": "program",
            "title": "t",
            "first_detected_on": dt.date(2024, 1, 1),
            "last_detected_on": dt.date(2024, 3, 1),
        }
        rows = {
            "open": Flag.objects.create(subject_id=1, status="open", **common),
            "resolved": Flag.objects.create(
                subject_id=2, status="resolved", resolved_at=dt.datetime(2024, 3, 5, 23, tzinfo=dt.UTC), **common
            ),
            # A scan for a past date resolved it "now": never before its last detection.
            "backdated": Flag.objects.create(
                subject_id=3, status="resolved", resolved_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC), **common
            ),
            "dismissed": Flag.objects.create(subject_id=4, status="dismissed", resolved_at=None, **common),
        }
        apps = _migrate(AFTER)
        Flag = apps.get_model("accountability", "Flag")
        closed_on = {name: Flag.objects.get(pk=row.pk).closed_on for name, row in rows.items()}
        assert closed_on == {
            "open": None,
            "resolved": dt.date(2024, 3, 5),
            "backdated": dt.date(2024, 3, 1),
            "dismissed": dt.date(2024, 3, 1),
        }
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
