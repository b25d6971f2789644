"""The migrations that start tracking history give every existing row a baseline snapshot."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from programs.migrations._baseline import REASON

BEFORE = [("accountability", "0006_flag_closed_on_constraint"), ("programs", "0001_initial")]
AFTER = [("accountability", "0008_history_actors"), ("programs", "0003_history_everywhere_and_change_log")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_rows_get_one_baseline_snapshot_and_no_change_log_entry(organization):
    apps = _migrate(BEFORE)
    try:
        Person = apps.get_model("programs", "Person")
        Program = apps.get_model("programs", "Program")
        Flag = apps.get_model("accountability", "Flag")
        people = [Person.objects.create(organization_id=organization.pk, name=f"P{i}") for i in range(3)]
        program = Program.objects.create(organization_id=organization.pk, name="Old program")
        flag = Flag.objects.create(
            organization_id=organization.pk,
            program_id=program.pk,
            kind="no_business_outcome",
            severity="high",
            subject_type="program",
            subject_id=program.pk,
            title="No outcome metric",
            first_detected_on=dt.date(2024, 1, 1),
            last_detected_on=dt.date(2024, 1, 1),
        )
        apps = _migrate(AFTER)
        HistoricalPerson = apps.get_model("programs", "HistoricalPerson")
        HistoricalFlag = apps.get_model("accountability", "HistoricalFlag")
        HistoricalOrganization = apps.get_model("programs", "HistoricalOrganization")
        snapshots = HistoricalPerson.objects.filter(id__in=[p.pk for p in people])
        assert sorted(snapshots.values_list("id", "name", "history_type", "history_change_reason")) == [
            (p.pk, p.name, "+", REASON) for p in people
        ]
        assert snapshots.filter(history_user_id=None, history_api_key_id=None).count() == 3
        flag_snapshot = HistoricalFlag.objects.get(id=flag.pk)
        assert (flag_snapshot.title, flag_snapshot.status) == ("No outcome metric", "open")
        assert HistoricalOrganization.objects.filter(id=organization.pk).count() == 1
        assert apps.get_model("programs", "Change").objects.count() == 0
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
