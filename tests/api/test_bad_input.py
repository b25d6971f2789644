"""Bad input is a 4xx with a message, never a 500 and never a half-write."""

import json

import pytest

from programs.models import BusinessUnit, Program, RoadmapStage

pytestmark = pytest.mark.django_db


def raw(client, path, text: str, method="post", content_type="application/json"):
    return getattr(client, method)(path, data=text, content_type=content_type)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused_by_the_parser(literal, world, office):
    text = f'{{"program": {world.program.pk}, "sequence": 9, "name": "S", "budget": {literal}}}'
    response = raw(office, "/api/v1/stages/", text)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert literal in response.json()["detail"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-inf", "1e400", 1e300, "12345678901234567.0", True, "abc"])
def test_non_finite_or_oversized_decimals_are_400(value, world, office):
    body = {"program": world.program.pk, "sequence": 9, "name": "S", "budget": value}
    response = office.post("/api/v1/stages/", body, format="json")
    assert response.status_code == 400, response.json()
    assert "budget" in response.json()
    assert not RoadmapStage.objects.filter(sequence=9).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("champion_time_pct", 101),
        ("champion_time_pct", -1),
        ("champion_time_pct", 10**30),
        ("committed_horizon_months", 0),
        ("stall_after_days", 0),
        ("budget", "-5"),
        ("budget", "1.234"),
        ("started_on", "2024-13-01"),
        ("started_on", "01/02/2024"),
        ("started_on", "2024-02-30"),
        ("started_on", 20240101),
        ("started_on", "2024-01-01T00:00:00Z"),
        ("executive_sponsor", 10**25),
        ("executive_sponsor", 1.5),
        ("executive_sponsor", "abc"),
        ("executive_sponsor", True),
        ("executive_sponsor", [1]),
        ("name", "x" * 201),
        ("name", "null\x00byte"),
        ("name", None),
    ],
)
def test_wrong_types_and_out_of_range_values_are_400(field, value, world, office):
    before = Program.objects.count()
    body = {"name": "New program", field: value}
    response = office.post("/api/v1/programs/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Program.objects.count() == before


def test_lone_surrogates_in_text_are_400(world, office):
    response = raw(office, "/api/v1/business-units/", '{"name": "Claims \\ud800"}')
    assert response.status_code == 400
    assert "name" in response.json()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/stages/", {"status": "finished"}),
        ("/api/v1/initiatives/", {"status": "stalled"}),
        ("/api/v1/metrics/", {"level": "global"}),
        ("/api/v1/metrics/", {"kind": "vanity"}),
        ("/api/v1/sessions/", {"status": "skipped"}),
        ("/api/v1/progress-updates/", {"rag": "purple"}),
    ],
)
def test_unknown_enum_values_are_400(path, body, world, office):
    response = office.post(path, body, format="json")
    assert response.status_code == 400
    (field,) = body
    assert response.json()[field] == [f'"{body[field]}" is not a valid choice.']


@pytest.mark.parametrize("answer", [0, 6, 3.5])
def test_commitment_answers_are_1_to_5(answer, world, office):
    from .resources import _assessment

    body = {**_assessment(world), "true_partner": answer}
    response = office.post("/api/v1/commitment-assessments/", body, format="json")
    assert response.status_code == 400
    assert "true_partner" in response.json()


def test_unknown_fields_are_ignored(world, office):
    response = office.post("/api/v1/business-units/", {"name": "Claims", "colour": "blue"}, format="json")
    assert response.status_code == 201
    assert "colour" not in response.json()


def test_dates_must_be_in_order(world, office):
    body = {
        "program": world.program.pk,
        "sequence": 50,
        "name": "S",
        "starts_on": "2024-05-01",
        "ends_on": "2024-04-01",
    }
    response = office.post("/api/v1/stages/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"ends_on": ["ends_on cannot be before starts_on."]}


def test_duplicates_are_400_not_500(world, office):
    body = {"program": world.program.pk, "sequence": world.stage.sequence, "name": "Again"}
    response = office.post("/api/v1/stages/", body, format="json")
    assert response.status_code == 400
    assert office.post("/api/v1/business-units/", {"name": world.business_unit.name}, format="json").status_code == 400
    assert BusinessUnit.objects.filter(name=world.business_unit.name).count() == 1


def test_an_escalation_names_exactly_one_subject(world, office):
    body = {
        "program": world.program.pk,
        "metric": world.metric.pk,
        "initiative": world.initiative.pk,
        "raised_by": world.person.pk,
        "raised_to": world.person.pk,
        "raised_on": "2024-03-01",
    }
    response = office.post("/api/v1/escalations/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Name exactly one subject: an initiative or a metric."]}


def test_deleting_a_referenced_person_is_409_with_a_message(world, office):
    response = office.delete(f"/api/v1/people/{world.person.pk}/")
    assert response.status_code == 409
    assert "still referenced" in response.json()["detail"]


@pytest.mark.parametrize(
    ("text", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ("name=Claims", "application/x-www-form-urlencoded", 415),
        ('{"name": "Claims"}', "text/plain", 415),
        (b'{"name": "\xff\xfe"}', "application/json", 400),
    ],
)
def test_malformed_bodies(text, content_type, status, world, office):
    response = raw(office, "/api/v1/business-units/", text, content_type=content_type)
    assert response.status_code == status
    assert "detail" in response.json() or "non_field_errors" in response.json()


def test_an_oversized_body_is_413(world, office, settings):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 5 * 1024 * 1024
    text = json.dumps({"name": "Claims", "padding": "x" * limit})
    response = raw(office, "/api/v1/business-units/", text)
    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is {len(text):,} bytes; the limit is {limit:,} bytes."}
    assert not BusinessUnit.objects.filter(name="Claims").exists()
    bulk = raw(office, "/api/v1/measurements/bulk/", "[" + ",".join(["{}"] * (limit // 2)) + "]")
    assert bulk.status_code == 413


def test_a_full_bulk_of_ten_thousand_items_fits_the_limit(world, settings):
    item = {"metric": 123456789, "period_end": "2024-01-31", "value": "12345678.1234", "source": "warehouse-nightly-x"}
    size = len(json.dumps([item] * 10_000))
    assert size < settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 4


@pytest.mark.parametrize("pk", ["99999999999999999999999", "9223372036854775808", "abc", "-1", "0"])
def test_odd_ids_in_the_path_are_404(pk, world, office):
    assert office.get(f"/api/v1/programs/{pk}/").status_code == 404
    assert office.patch(f"/api/v1/programs/{pk}/", {"name": "x"}, format="json").status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"program": "abc"},
        {"program": "99999999999999999999999"},
        {"status": "bogus"},
        {"due_on_before": "2024-02-30"},
        {"page": "abc"},
        {"page": "99999"},
    ],
)
def test_bad_query_parameters_are_400(params, world, office):
    response = office.get("/api/v1/initiatives/", params)
    assert response.status_code == 400, response.status_code
    assert response.json()


def test_a_page_size_over_1000_is_refused_not_cut(world, office):
    response = office.get("/api/v1/initiatives/", {"page_size": "1001"})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number from 1 to 1,000; got '1001'."]}
    assert office.get("/api/v1/initiatives/", {"page_size": "1000"}).status_code == 200


@pytest.mark.parametrize("query", ["page=", "page_size=", "ordering="])
def test_an_empty_page_or_ordering_is_refused_not_read_as_the_default(query, office):
    response = office.get(f"/api/v1/programs/?{query}")
    assert response.status_code == 400
    assert query.rstrip("=") in response.json()
