"""The API's contract (SPEC §5, Errors): JSON for every answer under /api/, malformed ids and
unknown paths included; invalid filter, ordering and page values refused with a 400 that says
what is allowed; wrong JSON types and nulls refused; every answer documented in the schema."""

import pytest
from django.test import RequestFactory

from accountability.models import Flag
from cxgov.api import errors
from metrics.models import Measurement
from programs.models import BusinessUnit, Person
from tests.factories import FlagFactory

pytestmark = pytest.mark.django_db


def is_json(response) -> bool:
    return response["Content-Type"].startswith("application/json")


# --- JSON everywhere under /api/ ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/programs/0.5/metric-tree/",
        "/api/v1/programs/abc/def/",
        "/api/v1/no-such-resource/",
        "/api/nothing-here",
        "/api/v1/flags/1/no-such-action/",
    ],
)
def test_any_unknown_path_under_api_is_a_json_404(world, office, path):
    for method in ("get", "post", "delete"):
        response = getattr(office, method)(path)
        assert response.status_code == 404, (method, path)
        assert is_json(response)
        assert response.json() == {"detail": f"No API endpoint or object at {path}."}


def test_a_missing_trailing_slash_is_a_json_404_naming_the_path(world, office):
    response = office.post("/api/v1/business-units", {"name": "Claims"}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "No API endpoint at /api/v1/business-units; the path ends with a slash: /api/v1/business-units/"
    }
    assert not BusinessUnit.objects.filter(name="Claims").exists()


def test_ids_that_are_numbers_but_not_rows_are_json_404s(world, office):
    for pk in ("0", "99999999999999999999999", str(world.program.pk + 1000)):
        response = office.get(f"/api/v1/programs/{pk}/")
        assert response.status_code == 404 and is_json(response)


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/dashboard/no-such-page/")
    assert response.status_code in (302, 404)
    assert not is_json(response)


def test_a_method_the_resource_does_not_have_is_a_json_405_with_allow(world, office):
    response = office.put(f"/api/v1/flags/{world.flag.pk}/", {}, format="json")
    assert response.status_code == 405 and is_json(response)
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert "POST" not in response["Allow"] and "GET" in response["Allow"]


def test_only_json_is_answered(world, office):
    html = office.get("/api/v1/flags/", HTTP_ACCEPT="text/html")
    assert html.status_code == 406 and is_json(html)
    assert office.get("/api/v1/flags/", HTTP_ACCEPT="application/json, text/html").status_code == 200


def test_djangos_own_error_pages_are_json_under_api_and_html_elsewhere():
    factory = RequestFactory()
    api, page = factory.get("/api/v1/flags/"), factory.get("/dashboard/")
    for handler, status in (
        (errors.server_error, 500),
        (errors.bad_request, 400),
        (errors.permission_denied, 403),
        (errors.page_not_found, 404),
    ):
        args = () if handler is errors.server_error else (None,)
        response = handler(api, *args)
        assert (response.status_code, is_json(response)) == (status, True)
        assert response.status_code == handler(page, *args).status_code
        assert not is_json(handler(page, *args))


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"page": "0"}, {"page": ["A whole number from 1; got '0'."]}),
        ({"page": "-1"}, {"page": ["A whole number from 1; got '-1'."]}),
        ({"page": "abc"}, {"page": ["A whole number from 1; got 'abc'."]}),
        ({"page": "1.5"}, {"page": ["A whole number from 1; got '1.5'."]}),
        ({"page": "last"}, {"page": ["A whole number from 1; got 'last'."]}),
        ({"page": "2"}, {"page": ["There is no page 2: the list has 1 page."]}),
        ({"page_size": "-1"}, {"page_size": ["A whole number from 1 to 1,000; got '-1'."]}),
        ({"page_size": "0"}, {"page_size": ["A whole number from 1 to 1,000; got '0'."]}),
        ({"page_size": "1001"}, {"page_size": ["A whole number from 1 to 1,000; got '1001'."]}),
        ({"page_size": "ten"}, {"page_size": ["A whole number from 1 to 1,000; got 'ten'."]}),
    ],
)
def test_page_values_that_are_not_a_page_are_400(world, office, params, error):
    for path in ("/api/v1/flags/", "/api/v1/programs/"):  # a .values() list and a serializer list
        response = office.get(path, params)
        assert response.status_code == 400
        assert response.json() == error


def test_valid_pages_on_both_sides_of_the_last(world, office):
    FlagFactory(program=world.program, kind="champion_not_officer")
    first = office.get("/api/v1/flags/", {"page": "1", "page_size": "1"})
    second = office.get("/api/v1/flags/", {"page": "2", "page_size": "1"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["count"] == 2 and second.json()["next"] is None
    assert office.get("/api/v1/flags/", {"page": "3", "page_size": "1"}).status_code == 400
    assert office.get("/api/v1/flags/", {"page_size": "1000"}).status_code == 200


def test_page_one_of_an_empty_list_exists(world, office):
    response = office.get("/api/v1/scans/", {"page": "1"})
    assert response.status_code == 200 and response.json()["count"] == 0


# --- ordering and filters ---------------------------------------------------------------------


def test_an_unknown_ordering_field_is_400_naming_the_allowed_ones(world, office):
    response = office.get("/api/v1/metrics/", {"ordering": "-nope"})
    assert response.status_code == 400
    assert response.json() == {
        "ordering": [
            "Cannot order by '-nope': order by created_at, id, incentive_weight, kind, latest_period_end, level, "
            "name, target_on (prefix - to reverse)."
        ]
    }
    assert office.get("/api/v1/metrics/", {"ordering": "name,--id"}).status_code == 400
    assert office.get("/api/v1/metrics/", {"ordering": "name,-id"}).status_code == 200


def test_ordering_orders(world, office):
    FlagFactory(program=world.program, kind="champion_not_officer")
    ids = sorted(Flag.objects.values_list("id", flat=True))
    up = office.get("/api/v1/flags/", {"ordering": "id"}).json()["results"]
    down = office.get("/api/v1/flags/", {"ordering": "-id"}).json()["results"]
    assert [f["id"] for f in up] == ids and [f["id"] for f in down] == ids[::-1]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("flags", {"live": "maybe"}, "live"),
        ("forums", {"active": "yes please"}, "active"),
        ("people", {"is_officer": "null"}, "is_officer"),
        ("flags", {"status": ""}, "status"),
        ("flags", {"program": ""}, "program"),
        ("action-items", {"due_on_before": ""}, "due_on_before"),
        ("flags", {"open_on": ""}, "open_on"),
        ("flags", {"severity": "apocalyptic"}, "severity"),
        ("flags", {"program": "abc"}, "program"),
        ("flags", {"program": "0"}, "program"),
        ("measurements", {"period_end_after": "2024-02-30"}, "period_end_after"),
    ],
)
def test_invalid_filter_values_are_400_naming_the_filter(world, office, path, params, field):
    response = office.get(f"/api/v1/{path}/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_boolean_filters_take_true_and_false(world, office):
    FlagFactory(program=world.program, kind="champion_not_officer", status="resolved")
    live = office.get("/api/v1/flags/", {"live": "true"}).json()
    closed = office.get("/api/v1/flags/", {"live": "false"}).json()
    assert (live["count"], closed["count"]) == (1, 1)
    assert office.get("/api/v1/flags/", {"live": "1"}).json()["count"] == 1


def test_an_empty_text_filter_is_no_filter(world, office):
    assert (
        office.get("/api/v1/people/", {"name": ""}).json()["count"]
        == Person.objects.filter(organization=world.organization).count()
    )


@pytest.mark.parametrize("params", [{"history": "maybe"}, {"history": ""}, {"as_of": ""}])
def test_the_risk_reads_parameters_are_checked(world, office, params):
    response = office.get(f"/api/v1/programs/{world.program.pk}/risk/", params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


# --- bodies: types and nulls -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "attr", "body", "field"),
    [
        ("stages", "stage", {"name": 12}, "name"),
        ("attendance", "attendance", {"present": 0}, "present"),
        ("forums", "forum", {"active": "true"}, "active"),
        ("programs", "program", {"committed_horizon_months": "36"}, "committed_horizon_months"),
        ("programs", "program", {"champion_time_pct": 50.0}, "champion_time_pct"),
        ("programs", "program", {"executive_sponsor": "1"}, "executive_sponsor"),
        ("sessions", "session", {"notes": ["a"]}, "notes"),
        ("stages", "stage", {"budget": True}, "budget"),
        ("stages", "stage", {"starts_on": 20240101}, "starts_on"),
    ],
)
def test_wrong_json_types_are_400_not_coerced(world, office, path, attr, body, field):
    row = getattr(world, attr)
    response = office.patch(f"/api/v1/{path}/{row.pk}/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_decimals_may_be_sent_as_numbers_or_numeric_strings(world, office):
    for budget in (1250000, "1250000.50"):
        response = office.patch(f"/api/v1/stages/{world.stage.pk}/", {"budget": budget}, format="json")
        assert response.status_code == 200, response.json()


def test_nulls_are_refused_where_the_field_is_not_nullable(world, office):
    before = Measurement.objects.count(), Measurement.history.count()
    item = {"metric": world.metric.pk, "period_end": "2024-07-31", "value": 1, "source": None}
    bulk = office.post("/api/v1/measurements/bulk/", [item], format="json")
    assert bulk.status_code == 400
    assert bulk.json() == {
        "items": {"0": {"source": ["This field may not be null: send a text, or leave the field out."]}}
    }
    single = office.post("/api/v1/measurements/", item, format="json")
    assert single.status_code == 400 and list(single.json()) == ["source"]
    assert (Measurement.objects.count(), Measurement.history.count()) == before
    # Leaving it out is fine: the source is then empty.
    del item["source"]
    assert office.post("/api/v1/measurements/bulk/", [item], format="json").json()["created"] == 1


# --- the schema says all of it ------------------------------------------------------------------


def test_every_operation_documents_every_answer(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "406", "413", "429"} <= codes, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in codes, (method, path)
            if method == "delete":
                assert "204" in codes, path
    assert "202" in schema["paths"]["/api/v1/scans/"]["post"]["responses"]


def test_the_schema_documents_ordering_pages_and_date_ranges(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/flags/"]["get"]["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert parameters["ordering"]["explode"] is False
    assert "-last_detected_at" in parameters["ordering"]["schema"]["items"]["enum"]
    assert parameters["open_on"]["schema"]["pattern"] == "^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"
    program = schema["components"]["schemas"]["PatchedProgramWithRiskRequest"]["properties"]
    assert program["started_on"]["pattern"] == "^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"
    assert program["executive_sponsor"]["minimum"] == 1
    assert [branch["type"] for branch in program["budget"]["oneOf"]] == ["number", "string"]
