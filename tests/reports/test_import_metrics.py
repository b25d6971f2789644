"""The metrics import: the cascade by names, owners by email, guarded changes need a reason."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics.models import Metric, MetricRevision
from reports.spreadsheets.metrics import MetricResource
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
    assert errors[5] == {"parent": ["No metric named 'Missing parent' in Onboarding."]}  # the writes' check
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


def test_a_parent_moved_between_preview_and_confirm_imports_nothing_and_says_so(office_client, program):
    """All or nothing, and said: the confirmation plans again; a parent moved down the
    cascade since the preview refuses the child, nothing is written, no success message."""
    top = MetricFactory(program=program, name="Top", level="strategic", kind="outcome")
    text = (HEADER + "Onboarding,Child,tactical,perception,Top,,,,\n").encode()
    response = preview(office_client, MODEL, "child.csv", text)
    assert totals(response) == {"new": 1, "update": 0, "skip": 0, "invalid": 0}
    Metric.objects.filter(pk=top.pk).update(level="operational")

    done = confirm(office_client, MODEL, response)
    assert done.status_code == 200
    assert not [m for m in get_messages(done.wsgi_request) if "Import finished" in str(m)]
    page = done.content.decode()
    assert "Nothing was imported" in page and "Import finished" not in page
    [row] = done.context["result"].invalid_rows
    assert row.number == 2 and "cannot sit under" in row.error_dict["parent"][0]
    assert list(Metric.objects.values_list("name", flat=True)) == ["Top"]


def test_a_confirmation_that_fails_in_the_service_shows_its_message(office_client, program, monkeypatch):
    """A refusal the service raises without naming a row is shown by its message, no traceback."""
    response = preview(office_client, MODEL, "metrics.csv", (HEADER + "Onboarding,A,strategic,outcome,,,,,\n").encode())

    def refuse(self, rows, user):
        raise ValidationError("The program was archived meanwhile.")

    monkeypatch.setattr(MetricResource, "write", refuse)
    done = confirm(office_client, MODEL, response)
    assert done.status_code == 200
    page = done.content.decode()
    assert "Nothing was imported" in page and "The program was archived meanwhile." in page
    assert "Traceback" not in page
    assert not Metric.objects.exists()


def test_every_error_shows_in_one_preview_lookups_and_service_rules_alike(office_client, program, owner):
    """A missing change_reason (found by the service pass) shows with rows 3 and 5's lookup
    errors; a row naming a parent whose row is in error says so."""
    MetricFactory(
        program=program,
        name="Kept",
        level="strategic",
        kind="outcome",
        target=Decimal("40"),
        target_on=dt.date(2025, 1, 1),
        owner=owner,
    )
    text = (
        HEADER + "Onboarding,Kept,strategic,outcome,,ana@example.com,50,2025-01-01,\n"  # row 2: no reason
        "Onboarding,Lost owner,strategic,outcome,,nobody@example.com,,,\n"  # row 3: no such owner
        "Onboarding,Fine,strategic,outcome,,,,,\n"  # row 4: fine
        "Nowhere,X,galactic,outcome,,,,45322,\n"  # row 5: no such program, and more
        "Onboarding,Orphan,tactical,outcome,Lost owner,,,,\n"  # row 6: its parent's row is in error
    )
    response = preview(office_client, MODEL, "all.csv", text.encode())
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {
        2: {"change_reason": ["Changing target needs a reason in the change_reason column."]},
        3: {"owner": ["No person with the email 'nobody@example.com' in the program's organization."]},
        5: {
            "program": ["No program named 'Nowhere' in your organizations."],
            "level": ["'galactic' is not one of: strategic, tactical, operational."],
            "target_on": [
                "45322 is an Excel serial number, not a date (probably 2024-01-31): format the column as a date "
                "or write YYYY-MM-DD."
            ],
        },
        6: {"parent": ["'Lost owner' is row 3, which is in error: correct that row first."]},
    }
    assert totals(response)["new"] == 1  # row 4, checked by the service pass too
    assert list(Metric.objects.values_list("name", flat=True)) == ["Kept"]


def test_replaced_by_names_a_metric_of_the_program_in_the_file_or_existing(office_client, program):
    MetricFactory(program=program, name="Old survey", level="strategic", kind="perception")
    header = "program,name,level,kind,replaced_by\n"
    text = (
        header + "Onboarding,Old survey,strategic,perception,New survey\n"  # replaced by a later row
        "Onboarding,Legacy count,operational,operational,Old survey\n"  # by an existing metric
        "Onboarding,New survey,strategic,perception,\n"
    )
    response = preview(office_client, MODEL, "replaced.csv", text.encode())
    assert totals(response) == {"new": 2, "update": 1, "skip": 0, "invalid": 0}
    confirm(office_client, MODEL, response)
    old, legacy, new = (Metric.objects.get(name=n) for n in ("Old survey", "Legacy count", "New survey"))
    assert (old.replaced_by, legacy.replaced_by, new.replaced_by) == (new, old, None)
    assert totals(preview(office_client, MODEL, "replaced.csv", text.encode()))["skip"] == 3

    bad = (
        header + "Onboarding,Old survey,strategic,perception,Old survey\n"
        "Onboarding,Legacy count,operational,operational,Nothing like it\n"
    )
    errors = {
        r.number: r.error_dict
        for r in preview(office_client, MODEL, "bad.csv", bad.encode()).context["result"].invalid_rows
    }
    assert errors == {
        2: {"replaced_by": ["The replacement must be another metric of the same program."]},
        3: {"replaced_by": ["No metric named 'Nothing like it' in Onboarding."]},
    }
    old.refresh_from_db()
    assert old.replaced_by == new


def test_the_template_has_every_column_replaced_by_included(office_client, program):
    response = office_client.get(reverse("admin:metrics_metric_import_template", args=["csv"]))
    header = response.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == list(MetricResource.columns()) and "replaced_by" in header
