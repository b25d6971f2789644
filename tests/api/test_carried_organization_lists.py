"""The lists of rows that carry their organization (measurements, progress updates, sessions,
attendance, agenda items: docs/performance.md) read only the caller's rows: the page and its
count filter the rows' own column, with no join up to the tables that lead to the program,
in the order of the index that starts with it. Each model's writers are tested beside it
(test_measurement_organization.py, test_progress_update_organization.py,
test_session_organization.py, test_session_record_organization.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accountability.models import AgendaItem, Attendance, ForumSession
from metrics.models import Measurement
from programs.models import ProgressUpdate
from tests.plans import ordered_plan

pytestmark = pytest.mark.django_db

# path, model, the world's row, the tables a join to the program would read, the index and its order.
LISTS = [
    (
        "measurements",
        Measurement,
        "measurement",
        ["metrics_metric", "programs_program"],
        ("measurement_org_list", ["metric_id", "-period_end"]),
    ),
    (
        "progress-updates",
        ProgressUpdate,
        "progress_update",
        ["programs_initiative", "programs_program"],
        ("progress_org_list", ["-reported_on", "-id"]),
    ),
    (
        "sessions",
        ForumSession,
        "session",
        ['accountability_forum"', "programs_program"],
        ("session_org_list", ["-scheduled_for", "-id"]),
    ),
    (
        "attendance",
        Attendance,
        "attendance",
        ["accountability_forum", "programs_program"],
        ("attendance_org_list", ["session_id", "id"]),
    ),
    (
        "agenda-items",
        AgendaItem,
        "agenda_item",
        ["accountability_forum", "programs_program"],
        ("agenda_item_org_list", ["session_id", "id"]),
    ),
]
IDS = [path for path, *_ in LISTS]


@pytest.mark.parametrize(("path", "model", "ours", "joins", "index"), LISTS, ids=IDS)
def test_the_list_reads_only_the_callers_rows_by_their_own_column(
    world, other_world, office, path, model, ours, joins, index
):
    with CaptureQueriesContext(connection) as ctx:
        # A full page, so the count is asked too (a page that is not full is counted from its rows).
        response = office.get(f"/api/v1/{path}/", {"page_size": 1})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [getattr(world, ours).pk]
    assert response.json()["count"] == 1
    table = model._meta.db_table
    reads = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 2, "the page and its count"
    for sql in reads:
        # Filtered on the rows' own organization column, with no join up to the program:
        # no other organization's row is walked to answer it.
        assert f'"{table}"."organization_id"' in sql
        assert not [name for name in joins if name in sql], sql


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the index's order is PostgreSQL's plan")
@pytest.mark.parametrize(("path", "model", "ours", "joins", "index"), LISTS, ids=IDS)
def test_the_organization_index_serves_the_list_order(world, path, model, ours, joins, index):
    name, order = index
    plan = ordered_plan(model.objects.filter(organization=world.organization).order_by(*order)[:100])
    assert name in plan, plan
