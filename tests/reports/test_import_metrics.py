"""The metrics import: the cascade by names, owners by email, guarded changes need a reason."""

import datetime as dt
from decimal import Decimal

import pytest

from metrics.models import Metric, MetricRevision
from tests.factories import MetricFactory, PersonFactory, ProgramFactory

from .conftest import confirm, preview, totals, xlsx_bytes

pytestmark = pytest.mark.django_db
MODEL = "metrics.metric"
HEADER = "program,name,level,kind,parent,owner,target,target_on,change_reason\n"


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization, name="Onboarding")


@pytest.fixture
def owner(organization):
    return PersonFactory(organization=organization, email="Ana@Example.com")


def cascade_csv() -> bytes:
    # The child comes first in the file: parents are written first all the same.
    return (
        HEADER + "Onboarding,Time to first value,tactical,operational,Net promoter score,,30,2026-12-31,\n"
        "Onboarding,Net promoter score,strategic,perception,,ana@example.com,45,2026-12-31,\n"
    ).encode()


def test_a_cascade_is_created_then_reimport_changes_nothing(office_client, office_user, program, owner):
    response = preview(office_client, MODEL, "metrics.csv", cascade_csv())
    assert totals(response) == {"new": 2, "update": 0, "skip": 0, "invalid": 0}
    assert not Metric.objects.exists()  # the preview rolled back
    confirm(office_client, MODEL, response)
    nps = Metric.objects.get(name="Net promoter score")
    child = Metric.objects.get(name="Time to first value")
    assert (child.parent, nps.owner, nps.target) == (nps, owner, Decimal("45"))
    assert nps.history.first().history_user == office_user

    again = preview(office_client, MODEL, "metrics.csv", cascade_csv())
    assert totals(again) == {"new": 0, "update": 0, "skip": 2, "invalid": 0}
    confirm(office_client, MODEL, again)
    assert Metric.history.count() == 2


def test_a_guarded_change_needs_its_reason_and_writes_a_revision(office_client, office_user, program, owner):
    nps = MetricFactory(
        program=program,
        name="Net promoter score",
        level="strategic",
        kind="perception",
        target=Decimal("40"),
        target_on=dt.date(2026, 12, 31),
        owner=owner,
    )
    rows = [
        ["program", "name", "level", "kind", "target", "target_on", "owner", "change_reason"],
        [
            "Onboarding",
            "Net promoter score",
            "strategic",
            "perception",
            50,
            dt.date(2026, 12, 31),
            "ana@example.com",
            "",
        ],
    ]
    response = preview(office_client, MODEL, "m.xlsx", xlsx_bytes(rows, title="Metrics"))
    [row] = response.context["result"].invalid_rows
    assert row.number == 2
    assert row.error_dict == {"change_reason": ["Changing target needs a reason in the change_reason column."]}
    assert not MetricRevision.objects.exists()

    rows[1][-1] = "Board raised the bar"
    response = preview(office_client, MODEL, "m.xlsx", xlsx_bytes(rows, title="Metrics"))
    assert totals(response) == {"new": 0, "update": 1, "skip": 0, "invalid": 0}
    assert not MetricRevision.objects.exists()
    confirm(office_client, MODEL, response)
    nps.refresh_from_db()
    assert nps.target == Decimal("50")
    [revision] = MetricRevision.objects.all()
    assert (revision.field, revision.old_value, revision.new_value) == ("target", "40", "50")
    assert (revision.reason, revision.changed_by) == ("Board raised the bar", office_user)


def test_errors_by_row_and_column_and_nothing_written(office_client, program, other_organization):
    ProgramFactory(organization=other_organization, name="Theirs")
    text = (
        HEADER + "Onboarding,A,strategic,perception,,nobody@example.com,,,\n"
        "Theirs,B,strategic,perception,,,,,\n"
        "Onboarding,C,galactic,perception,,,,,\n"
        "Onboarding,D,tactical,perception,Missing parent,,,,\n"
        "Onboarding,E,strategic,perception,,,,45322,\n"
        "Onboarding,E,strategic,perception,,,,,\n"
    ).encode()
    response = preview(office_client, MODEL, "bad.csv", text)
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors[2] == {"owner": ["No person with the email 'nobody@example.com' in the program's organization."]}
    assert errors[3] == {"program": ["No program named 'Theirs' in your organizations."]}
    assert errors[4] == {"level": ["'galactic' is not one of: strategic, tactical, operational."]}
    assert "Excel serial number" in errors[6]["target_on"][0]
    assert errors[7] == {"name": ["Duplicate of row 6: one row per metric of a program."]}
    assert not Metric.objects.exists()


def test_a_parent_that_does_not_exist_is_its_rows_error(office_client, program):
    text = (HEADER + "Onboarding,D,tactical,perception,Missing parent,,,,\n").encode()
    response = preview(office_client, MODEL, "bad.csv", text)
    [row] = response.context["result"].invalid_rows
    assert row.error_dict == {"parent": ["No metric named 'Missing parent' in Onboarding."]}
    assert not Metric.objects.exists()


def test_a_child_above_its_parent_is_refused_by_the_model_rule(office_client, program):
    text = (
        HEADER + "Onboarding,Top,operational,perception,,,,,\nOnboarding,Child,strategic,perception,Top,,,,\n"
    ).encode()
    response = preview(office_client, MODEL, "bad.csv", text)
    [row] = response.context["result"].invalid_rows
    assert row.number == 3
    assert "cannot sit under" in row.error_dict["parent"][0]
    assert not Metric.objects.exists()
