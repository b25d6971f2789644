"""The benchmarks' yardsticks are fair: each list's baseline answers with the API page's rows,
in its order, with every field the API renders; the scan's baseline reads every table."""

import json

import pytest
from django.test import RequestFactory

from benchmarks.api import LISTS
from benchmarks.api_urls import baseline
from benchmarks.scan import aggregate_pass

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", LISTS)
def test_a_list_baseline_has_the_api_page_rows_in_order_with_every_field(name, world, other_world, office):
    api = office.get(f"/api/v1/{name}/", {"page_size": 100})
    assert api.status_code == 200
    page = api.json()["results"]
    assert page, f"the world has no {name}"
    answer = baseline(RequestFactory().get("/"), name, world.organization.pk)
    rows = json.loads(answer.content)["results"]
    assert [row["id"] for row in rows] == [row["id"] for row in page]
    # Every field the API renders is a field of the baseline (a reference as `<name>_id`),
    # except what the API derives from columns the baseline already has (a metric's health
    # from its latest value, a person's calendar link from the token).
    derived = {"health", "calendar_url"}
    columns = set(rows[0])
    missing = {f for f in page[0] if f not in derived and f not in columns and f"{f}_id" not in columns}
    # A program's nested risk and readiness come from annotations: risk_score, risk_level…
    # and one ready_<check> each.
    prefix = {"readiness": "ready_"}
    nested = {f for f in missing if any(c.startswith(prefix.get(f, f"{f}_")) for c in columns)}
    assert missing == nested, missing - nested
    # A many-to-many field is a field of the page too: the same ids, in the same order.
    for field in {"members", "metrics_reviewed", "business_units", "board_recipients"} & set(page[0]):
        assert [row[field] for row in rows] == [row[field] for row in page], field


@pytest.mark.parametrize("name", ["forums", "initiatives"])
def test_a_baseline_reads_many_to_many_ids_for_the_page(name, world, office):
    world.forum.members.add(world.person)
    world.forum.metrics_reviewed.add(world.metric)
    world.initiative.business_units.add(world.business_unit)
    answer = baseline(RequestFactory().get("/"), name, world.organization.pk)
    row = json.loads(answer.content)["results"][0]
    expected = (
        {"members": [world.person.pk], "metrics_reviewed": [world.metric.pk]}
        if name == "forums"
        else {"business_units": [world.business_unit.pk]}
    )
    assert {field: row[field] for field in expected} == expected


def test_the_scan_baseline_aggregates_every_table_the_scan_reads(world):
    rows = aggregate_pass()
    assert len(rows) == 21
    assert {"measurements", "revisions", "program_history", "exemptions", "actions", "escalations", "agenda"} <= set(
        rows
    )
    assert {"flags", "attendance", "sessions"} <= set(rows)
