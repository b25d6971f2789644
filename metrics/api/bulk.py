"""`measurements/bulk/`: up to 10,000 measurements in one all-or-nothing write.

Thin: the rules and the set-wise upsert (with history rows) are `metrics.services.
measurements_upsert`, the same code as a single `POST measurements/` and the admin. Here:
- the body is a JSON list of `{metric, period_end, value, source}` (or `{"items": [...]}`),
  not empty, at most 10,000 items;
- metrics are looked up among the caller's organizations (another organization's metric
  is "does not exist", 400), and the caller must hold office or integration in every
  organization the items touch (403);
- errors are keyed by the item's index: `{"items": {"3": {"value": ["..."]}}}`;
- or the body is `text/csv` with the header `metric,period_end,value,source` (any order,
  `source` may be left out), one measurement a line; errors are then keyed by the file's
  line number (the header is line 1): `{"lines": {"3": {"value": ["..."]}}}`.
"""

import re

from rest_framework import exceptions

from cxgov.api.permissions import OFFICE_INTEGRATION, require_role_in
from cxgov.api.text import CSVTable
from metrics.measurements import MeasurementItemsInvalid, UpsertResult, measurements_upsert
from metrics.models import Metric

MAX_ITEMS = 10_000
#: The reason written on each history row of a bulk write.
CHANGE_REASON = "bulk ingest"


def items_of(data) -> list:
    """The list of items of a bulk body, or a 400 saying what is wrong with it."""
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise exceptions.ValidationError({"items": ['Send a JSON list of measurements (or {"items": [...]}).']})
    if not data:
        raise exceptions.ValidationError({"items": ["The list is empty."]})
    if len(data) > MAX_ITEMS:
        raise exceptions.ValidationError({"items": [f"At most {MAX_ITEMS:,} items per request; got {len(data):,}."]})
    return data


CSV_COLUMNS = ("metric", "period_end", "value", "source")
_CSV_REQUIRED = ("metric", "period_end", "value")
_DUPLICATE_OF_ITEM = re.compile(r"^Duplicate of item (\d+)")


def csv_items(table: CSVTable) -> tuple[list[dict], list[int]]:
    """The items of a CSV body and the line of each; a 400 for a wrong header or line shape."""
    header = table.header
    missing = [name for name in _CSV_REQUIRED if name not in header]
    extra = [name or "(empty)" for name in header if name not in CSV_COLUMNS]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if missing or extra or repeated:
        problems = []
        if missing:
            problems.append("missing column " + ", ".join(missing))
        if extra:
            problems.append("unknown column " + ", ".join(extra))
        if repeated:
            problems.append("repeated column " + ", ".join(repeated))
        raise exceptions.ValidationError(
            {"header": [f"Line 1: {'; '.join(problems)}. The header is {','.join(CSV_COLUMNS)}."]}
        )
    shape_errors = {
        str(line): {"non_field_errors": [f"{len(cells)} cells; the header has {len(header)}."]}
        for line, cells in table
        if len(cells) != len(header)
    }
    if shape_errors:
        raise exceptions.ValidationError({"lines": shape_errors})
    items = [dict(zip(header, (cell.strip() for cell in cells), strict=True)) for _, cells in table]
    return items, [line for line, _ in table]


def _by_line(item_errors: dict, lines: list[int]) -> dict:
    """The service's errors by item index, renamed to the file's line numbers."""
    out = {}
    for index, errors in item_errors.items():
        renamed = {}
        for field, messages in errors.items():
            renamed[field] = [
                _DUPLICATE_OF_ITEM.sub(lambda m: f"Duplicate of line {lines[int(m.group(1))]}", message)
                for message in messages
            ]
        out[str(lines[index])] = renamed
    return out


def bulk_upsert(data, *, user, actor) -> UpsertResult:
    """Parse the body, upsert through the service, translate its refusals (400 by index or line, 403)."""
    lines = None
    if isinstance(data, CSVTable):
        data, lines = csv_items(data)
        if not data:
            raise exceptions.ValidationError({"lines": ["The file has a header and no measurement."]})
    items = items_of(data)

    def authorize(organization_ids: set[int]) -> None:
        for organization_id in organization_ids:
            require_role_in(user, organization_id, OFFICE_INTEGRATION)

    try:
        return measurements_upsert(
            items=items,
            actor=actor,
            metrics=Metric.objects.for_user(user),
            authorize=authorize,
            reason=CHANGE_REASON,
            # JSON ids are JSON integers, as for a single POST; a CSV cell is text by nature.
            integer_ids=lines is None,
        )
    except MeasurementItemsInvalid as refused:
        if lines is not None:
            raise exceptions.ValidationError({"lines": _by_line(refused.item_errors, lines)}) from None
        raise exceptions.ValidationError(
            {"items": {str(index): errors for index, errors in refused.item_errors.items()}}
        ) from None
