"""The people import: matched by email, managers by email, re-import unchanged."""

import pytest

from programs.models import Person
from tests.factories import OrganizationFactory, PersonFactory

from .conftest import confirm, preview, totals, xlsx_bytes

pytestmark = pytest.mark.django_db
MODEL = "programs.person"


def people_csv() -> bytes:
    return (
        b"name,email,title,is_officer,reports_to\n"
        b"Bo Chen,bo@example.com,Head of claims,no,ana@example.com\n"  # the manager comes later in the file
        b"Ana Lima,Ana@Example.com,Chief Customer Officer,yes,\n"
        b"Cy Diaz,cy@example.com,Analyst,,bo@example.com\n"
    )


def test_people_are_created_then_reimport_changes_nothing(office_client, office_user, organization):
    PersonFactory(organization=organization, name="Cy Diaz", email="cy@example.com", title="Intern")
    response = preview(office_client, MODEL, "people.csv", people_csv())
    assert totals(response) == {"new": 2, "update": 1, "skip": 0, "invalid": 0}
    assert Person.objects.filter(organization=organization).count() == 1
    confirm(office_client, MODEL, response)
    ana = Person.objects.get(email="ana@example.com")
    bo = Person.objects.get(email="bo@example.com")
    cy = Person.objects.get(email="cy@example.com")
    assert (ana.is_officer, bo.reports_to, cy.reports_to, cy.title) == (True, ana, bo, "Analyst")
    assert cy.history.first().history_user == office_user

    again = preview(
        office_client,
        MODEL,
        "people.xlsx",
        xlsx_bytes([line.split(",") for line in people_csv().decode().splitlines()], title="People"),
    )
    assert totals(again) == {"new": 0, "update": 0, "skip": 3, "invalid": 0}


def test_errors_by_row_and_nothing_written(office_client, organization):
    """Every row's errors in one preview: the lookups' and the writes' (a manager not found)."""
    text = (
        b"name,email,is_officer,reports_to,organization\n"
        b"Ana,ana@example.com,maybe,,\n"
        b"Bo,bo@example.com,no,nobody@example.com,\n"
        b"Cy,ana@example.com,no,,\n"
        b"Di,di@example.com,no,,someone-elses\n"
    )
    OrganizationFactory(slug="someone-elses")
    response = preview(office_client, MODEL, "bad.csv", text)
    errors = {row.number: row.error_dict for row in response.context["result"].invalid_rows}
    assert errors == {
        2: {"is_officer": ["Yes or no (true/false, 1/0) is required."]},
        # Found by the writes (rolled back), shown with the other rows' errors all the same.
        3: {"reports_to": [f"No person with the email 'nobody@example.com' in {organization.name}."]},
        4: {"email": ["Duplicate of row 2: one row per person."]},
        5: {"organization": ["No organization 'someone-elses' among those you run."]},
    }
    assert not Person.objects.exists()


def test_a_manager_whose_row_is_in_error_is_named(office_client, organization):
    text = b"name,email,is_officer,reports_to\nAna,ana@example.com,maybe,\nBo,bo@example.com,no,ana@example.com\n"
    errors = {
        r.number: r.error_dict for r in preview(office_client, MODEL, "p.csv", text).context["result"].invalid_rows
    }
    assert errors[3] == {"reports_to": ["'ana@example.com' is row 2, which is in error: correct that row first."]}
    assert not Person.objects.exists()
