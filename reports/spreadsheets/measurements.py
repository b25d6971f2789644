"""The measurements import: `metric,period_end,value,source`, written by `measurements_upsert`.

`metric` is the metric's id, or its name when no other metric of the importer's
organizations has that name. The plan runs the service's own validation
(`measurement_rows`: values, dates, duplicates, scoping) and reads the existing values in
one query to say which rows create, update or change nothing.
"""

import re
from decimal import Decimal

from metrics.measurements import MeasurementItemsInvalid, measurement_rows, measurements_upsert
from metrics.models import Measurement, Metric
from programs.numbers import is_digits

from .files import date_cell
from .imports import NEW, UNCHANGED, UPDATE, PlannedRow, ServiceResource, office_organization_ids

#: The reason on each history row an import writes.
IMPORT_REASON = "spreadsheet import"
_DUPLICATE_OF_ITEM = re.compile(r"^Duplicate of item (\d+)")


def importable_metrics(user):
    scope = office_organization_ids(user)
    metrics = Metric.objects.all()
    return metrics if scope is None else metrics.filter(program__organization_id__in=scope)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class MeasurementResource(ServiceResource):
    sheet_name = "measurements"
    required = ("metric", "period_end", "value")
    optional = ("source",)
    example = {"metric": "Net promoter score", "period_end": "2026-01-31", "value": "42.5", "source": "survey"}

    def plan(self, rows: list[PlannedRow], user) -> None:
        metrics = importable_metrics(user)
        names = {_text(row.values.get("metric")) for row in rows} - {""}
        by_name: dict[str, list[int]] = {}
        for metric_id, name in metrics.filter(name__in=names).values_list("id", "name"):
            by_name.setdefault(name, []).append(metric_id)

        for row in rows:
            metric = _text(row.values.get("metric"))
            if not metric:
                row.errors["metric"] = ["This field is required."]
            elif not is_digits(metric):
                ids = by_name.get(metric, [])
                if len(ids) == 1:
                    metric = str(ids[0])
                else:
                    row.errors["metric"] = [
                        f"{len(ids)} metrics are named {metric!r}: use the metric's id."
                        if ids
                        else f"No metric named {metric!r} in your organizations."
                    ]
            period_end = date_cell(row.values.get("period_end"))
            if isinstance(period_end, str):
                row.errors["period_end"] = [period_end]
            value = row.values.get("value")
            row.item = {
                "metric": metric,
                "period_end": period_end,
                "value": _text(value) if not isinstance(value, int | float | Decimal) else value,
                "source": _text(row.values.get("source")),
            }
            if isinstance(value, float):
                row.item["value"] = Decimal(repr(value))  # 0.1 typed in Excel is 0.1, not its binary double

        # Every row goes to the service's rules, so that each column of each row is checked in
        # one preview. A metric or date already refused above is sent empty: the service then
        # reports it (the message above is kept, being the more precise) and leaves the row out
        # of the duplicate and scope checks, which need both.
        checked = [
            {**row.item, **{column: "" for column in ("metric", "period_end") if column in row.errors}} for row in rows
        ]
        try:
            measurement_rows(checked, metrics=metrics)
        except MeasurementItemsInvalid as refused:
            for index, errors in refused.item_errors.items():
                for column, messages in errors.items():
                    rows[index].errors.setdefault(
                        column,
                        [
                            _DUPLICATE_OF_ITEM.sub(lambda m: f"Duplicate of row {rows[int(m.group(1))].number}", text)
                            for text in messages
                        ],
                    )
        valid = [row for row in rows if not row.errors]
        existing = {
            (metric_id, period_end): (value, source)
            for metric_id, period_end, value, source in Measurement.objects.filter(
                metric_id__in={int(row.item["metric"]) for row in valid},
                period_end__in={row.item["period_end"] for row in valid},
            ).values_list("metric_id", "period_end", "value", "source")
        }
        for row in valid:
            before = existing.get((int(row.item["metric"]), row.item["period_end"]))
            if before is None:
                row.kind = NEW
            elif before == (Decimal(str(row.item["value"])).quantize(Decimal("0.0001")), row.item["source"]):
                row.kind = UNCHANGED
            else:
                row.kind = UPDATE

    def write(self, rows: list[PlannedRow], user) -> None:
        measurements_upsert(
            items=[row.item for row in rows],
            actor=user,
            metrics=importable_metrics(user),
            reason=IMPORT_REASON,
        )
