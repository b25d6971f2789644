"""Digits in input are ASCII 0-9 (SPEC §5: wrong formats are a 400).

Python's `\\d` in a str regex, `int()`, `Decimal()`, `strptime` and Django's date parsers
all take any Unicode digit: "２０２６-11-30" (full-width) was stored as 2026-11-30, "٣"
(Arabic-Indic three) as 3. Every parser of ids, dates and decimals now refuses them, and
nothing is written.
"""

import datetime as dt
from decimal import Decimal

import pytest

from cxgov.api.fields import IsoDateField, SaneDateTimeField, StrictDecimalField, parse_id
from metrics.measurements import MeasurementItemsInvalid, measurement_rows
from metrics.models import Measurement
from programs.models import Initiative, Program

pytestmark = pytest.mark.django_db

FULL_WIDTH_DATE = "２０２６-11-30"  # full-width digits
ARABIC_THREE = "٣"  # U+0663
FULL_WIDTH_THREE = "３"
BULK = "/api/v1/measurements/bulk/"


def measurement_count(metric) -> tuple[int, int]:
    return Measurement.objects.filter(metric=metric).count(), Measurement.history.filter(metric_id=metric.pk).count()


# --- the building blocks --------------------------------------------------------------------


@pytest.mark.parametrize("text", [FULL_WIDTH_THREE, "١٢", "3\n", "1_000", " 3", "+3"])
def test_parse_id_takes_ascii_digits_only(text):
    assert parse_id(text) is None


def test_parse_id_still_takes_json_integers_and_ascii_digit_texts():
    assert (parse_id(3), parse_id("3"), parse_id("0012")) == (3, 3, 12)


@pytest.mark.parametrize("text", [ARABIC_THREE, "１２.５", "1_000", "٣.٥"])
def test_strict_decimal_field_refuses_non_ascii_digits(text):
    field = StrictDecimalField(max_digits=12, decimal_places=2)
    with pytest.raises(Exception) as refused:
        field.run_validation(text)
    assert "A valid number is required." in str(refused.value)
    assert field.run_validation("12.5") == Decimal("12.5")


@pytest.mark.parametrize("text", [FULL_WIDTH_DATE, "2026-١١-30", "2026-1-5", "2026-11-30\n"])
def test_iso_date_field_refuses_anything_but_ascii_yyyy_mm_dd(text):
    with pytest.raises(Exception) as refused:
        IsoDateField().run_validation(text)
    assert "Date has wrong format. Use one of these formats instead: YYYY-MM-DD." in str(refused.value)
    assert IsoDateField().run_validation("2026-11-30") == dt.date(2026, 11, 30)


def test_date_time_field_refuses_non_ascii_digits():
    with pytest.raises(Exception, match="Datetime has wrong format"):
        SaneDateTimeField().run_validation("２０２６-11-30T10:00:00Z")
    assert SaneDateTimeField().run_validation("2026-11-30T10:00:00Z").year == 2026


@pytest.mark.parametrize(
    ("field", "value"),
    [("metric", FULL_WIDTH_THREE), ("metric", "3\n"), ("period_end", FULL_WIDTH_DATE), ("value", ARABIC_THREE)],
)
def test_the_measurement_rules_refuse_non_ascii_digits(field, value, world):
    item = {"metric": str(world.metric.pk), "period_end": "2026-11-30", "value": "3", field: value}
    with pytest.raises(MeasurementItemsInvalid) as refused:
        measurement_rows([item])
    assert list(refused.value.item_errors[0]) == [field]
    ascii_item = {"metric": str(world.metric.pk), "period_end": "2026-11-30", "value": "3"}
    assert measurement_rows([ascii_item])[0].value == Decimal("3")


# --- through the API -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"), [("period_end", FULL_WIDTH_DATE), ("value", ARABIC_THREE), ("value", "١٢.٥")]
)
def test_a_single_measurement_with_non_ascii_digits_is_400_and_writes_nothing(field, value, world, clients):
    before = measurement_count(world.metric)
    body = {"metric": world.metric.pk, "period_end": "2026-11-30", "value": "3", field: value}
    response = clients["integration"].post("/api/v1/measurements/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert measurement_count(world.metric) == before
    ok = clients["integration"].post(
        "/api/v1/measurements/", {**body, field: "2026-11-30" if field == "period_end" else "3"}, format="json"
    )
    assert ok.status_code == 201, ok.json()


@pytest.mark.parametrize(
    ("field", "value"), [("period_end", FULL_WIDTH_DATE), ("value", ARABIC_THREE), ("value", "1_000")]
)
def test_a_bulk_item_with_non_ascii_digits_is_400_and_writes_nothing(field, value, world, clients):
    before = measurement_count(world.metric)
    good = {"metric": world.metric.pk, "period_end": "2026-10-31", "value": 2}
    bad = {"metric": world.metric.pk, "period_end": "2026-11-30", "value": 3, field: value}
    response = clients["integration"].post(BULK, [good, bad], format="json")
    assert response.status_code == 400
    assert list(response.json()["items"]) == ["1"]
    assert list(response.json()["items"]["1"]) == [field]
    assert measurement_count(world.metric) == before


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ("{full_width_id},2026-11-30,3", "metric"),
        ("{id},２０２６-11-30,3", "period_end"),
        ("{id},2026-11-30,٣", "value"),
    ],
)
def test_a_csv_line_with_non_ascii_digits_is_400_and_writes_nothing(cells, field, world, clients):
    before = measurement_count(world.metric)
    full_width_id = str(world.metric.pk).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    line = cells.format(id=world.metric.pk, full_width_id=full_width_id)
    text = f"metric,period_end,value\n{world.metric.pk},2026-10-31,2\n{line}\n"
    response = clients["integration"].post(BULK, text.encode(), content_type="text/csv")
    assert response.status_code == 400
    assert list(response.json()["lines"]) == ["3"]
    assert list(response.json()["lines"]["3"]) == [field]
    assert measurement_count(world.metric) == before
    ascii_text = f"metric,period_end,value\n{world.metric.pk},2026-10-31,2\n{world.metric.pk},2026-11-30,3\n"
    assert clients["integration"].post(BULK, ascii_text.encode(), content_type="text/csv").status_code == 200


def test_a_program_with_a_full_width_date_or_budget_is_400_and_unchanged(world, office):
    url = f"/api/v1/programs/{world.program.pk}/"
    before = Program.objects.values().get(pk=world.program.pk)
    for body in ({"first_results_due_on": FULL_WIDTH_DATE}, {"budget": "１０００"}):
        response = office.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()) == list(body)
    assert Program.objects.values().get(pk=world.program.pk) == before


def test_a_list_of_ids_takes_json_integers_only(world, office):
    url = f"/api/v1/initiatives/{world.initiative.pk}/"
    unit = world.business_unit.pk
    for ids in ([str(unit)], [FULL_WIDTH_THREE]):
        response = office.patch(url, {"business_units": ids}, format="json")
        assert response.status_code == 400, ids
        assert response.json() == {"business_units": ["Incorrect type. Expected pk value, received str."]}
        assert not Initiative.objects.get(pk=world.initiative.pk).business_units.exists()
    assert office.patch(url, {"business_units": [unit]}, format="json").status_code == 200
    assert list(Initiative.objects.get(pk=world.initiative.pk).business_units.values_list("pk", flat=True)) == [unit]


# --- one rule for ids: JSON integers in JSON bodies, ASCII digit texts in CSV ---------------


def test_with_integer_ids_the_measurement_rules_refuse_a_digit_text(world):
    item = {"metric": str(world.metric.pk), "period_end": "2026-11-30", "value": 3}
    with pytest.raises(MeasurementItemsInvalid) as refused:
        measurement_rows([item], integer_ids=True)
    assert refused.value.item_errors == {0: {"metric": ["A whole number (JSON integer) is required."]}}
    assert measurement_rows([{**item, "metric": world.metric.pk}], integer_ids=True)[0].metric_id == world.metric.pk
    assert measurement_rows([item])[0].metric_id == world.metric.pk  # text sources: CSV, spreadsheets


def test_a_single_measurement_refuses_a_digit_text_id(world, clients):
    body = {"metric": str(world.metric.pk), "period_end": "2026-11-30", "value": 3}
    response = clients["integration"].post("/api/v1/measurements/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"metric": ["A whole number (JSON integer) is required."]}


def test_a_bulk_json_item_refuses_a_digit_text_id_like_the_single_post(world, clients):
    before = measurement_count(world.metric)
    body = [{"metric": str(world.metric.pk), "period_end": "2026-11-30", "value": 3}]
    response = clients["integration"].post(BULK, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"items": {"0": {"metric": ["A whole number (JSON integer) is required."]}}}
    assert measurement_count(world.metric) == before


def test_a_csv_line_takes_the_metric_as_a_digit_text(world, clients):
    text = f"metric,period_end,value\n{world.metric.pk},2026-11-30,3\n"
    response = clients["integration"].post(BULK, text.encode(), content_type="text/csv")
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}


def test_a_detail_url_or_filter_in_other_digits_names_nothing(world, office):
    pk = world.program.pk
    full_width = "".join(chr(0xFF10 + int(d)) for d in str(pk))
    assert office.get(f"/api/v1/programs/{pk}/").status_code == 200
    assert office.get(f"/api/v1/programs/{full_width}/").status_code == 404
    assert office.get(f"/api/v1/initiatives/?program={pk}").status_code == 200
    assert office.get(f"/api/v1/initiatives/?program={full_width}").status_code == 400
    assert office.get("/api/v1/initiatives/?due_on_before=2026-01-01").status_code == 200
    assert office.get(f"/api/v1/initiatives/?due_on_before={FULL_WIDTH_DATE}").status_code == 400
