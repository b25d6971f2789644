"""`measurements/bulk/`: up to 10,000 measurements in one all-or-nothing, set-based write.

Contract:
- Body: a JSON list of `{metric, period_end, value, source}` (or `{"items": [...]}`).
- Every item is validated before anything is written. Errors are keyed by the item's
  index: `{"items": {"3": {"value": ["..."]}}}`; a (metric, period_end) sent twice names
  both indexes. Any error: 400 and nothing written.
- Each item upserts on (metric, period_end), like `measurement_upsert`: a new pair is
  created, a changed value or source is updated (with recorded_at), an identical item
  changes nothing. Every created or changed row gets its history row (simple-history),
  so bulk writes are not missing from the audit trail.
- Safe to re-run: sending the same list twice creates and changes nothing the second time.

Validation is hand-written rather than 10,000 serializer instances (the per-item DRF
cost alone would exceed the whole write). The write is three queries on any database;
on PostgreSQL the upsert and its history rows are a single statement over `unnest()`d
arrays, skipping Django model instances entirely.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import exceptions

from cxgov.api.fields import parse_id
from cxgov.api.permissions import OFFICE_INTEGRATION, require_role_in
from metrics.models import Measurement, Metric

from .fields import measurement_value

MAX_ITEMS = 10_000
CHANGE_REASON = "bulk ingest"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SOURCE_MAX = Measurement._meta.get_field("source").max_length


@dataclass(frozen=True, slots=True)
class Row:
    metric_id: int
    period_end: date
    value: Decimal
    source: str


@dataclass(frozen=True)
class BulkResult:
    created: int
    updated: int
    unchanged: int


def _items(data) -> list:
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise exceptions.ValidationError({"items": ['Send a JSON list of measurements (or {"items": [...]}).']})
    if not data:
        raise exceptions.ValidationError({"items": ["The list is empty."]})
    if len(data) > MAX_ITEMS:
        raise exceptions.ValidationError({"items": [f"At most {MAX_ITEMS:,} items per request; got {len(data):,}."]})
    return data


def _date(value) -> date | str:
    if not isinstance(value, str) or not _DATE.match(value):
        return "Date has wrong format. Use YYYY-MM-DD."
    try:
        return date.fromisoformat(value)
    except ValueError:
        return "Not a valid date."


def _value(value) -> Decimal | str:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | Decimal | str)
        or (isinstance(value, str) and len(value) > 100)
    ):
        return "A finite number is required."
    try:
        return measurement_value(value)
    except DjangoValidationError as exc:
        return exc.message_dict["value"][0]
    except InvalidOperation:
        return "A finite number is required."


def _source(value) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    if len(value) > _SOURCE_MAX or "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return None
    return value


def _validate_item(item) -> tuple[Row | None, dict]:
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Each item must be an object."]}
    errors: dict[str, list[str]] = {}
    metric_id = parse_id(item.get("metric"))
    if "metric" not in item:
        errors["metric"] = ["This field is required."]
    elif metric_id is None:
        errors["metric"] = [f'Invalid pk "{item.get("metric")}" - object does not exist.']
    period_end = _date(item.get("period_end")) if "period_end" in item else "This field is required."
    if isinstance(period_end, str):
        errors["period_end"] = [period_end]
    value = _value(item.get("value")) if "value" in item else "This field is required."
    if isinstance(value, str):
        errors["value"] = [value]
    source = _source(item.get("source"))
    if source is None:
        errors["source"] = [f"A text of at most {_SOURCE_MAX} characters is required."]
    if errors:
        return None, errors
    return Row(metric_id, period_end, value, source), {}


def validate(data, user) -> list[Row]:
    """Every item checked, every metric in the caller's organizations; raise 400 or 403."""
    items = _items(data)
    rows: list[Row | None] = []
    errors: dict[str, dict] = {}
    first_index: dict[tuple[int, date], int] = {}
    for index, item in enumerate(items):
        row, item_errors = _validate_item(item)
        rows.append(row)
        if item_errors:
            errors[str(index)] = item_errors
            continue
        key = (row.metric_id, row.period_end)
        if key in first_index:
            errors[str(index)] = {
                "period_end": [f"Duplicate of item {first_index[key]}: one value per metric and period_end."]
            }
        else:
            first_index[key] = index

    metric_ids = {row.metric_id for row in rows if row is not None}
    organizations = dict(
        Metric.objects.for_user(user).filter(pk__in=metric_ids).values_list("id", "program__organization_id")
    )
    for index, row in enumerate(rows):
        if row is not None and row.metric_id not in organizations:
            errors.setdefault(str(index), {})["metric"] = [f'Invalid pk "{row.metric_id}" - object does not exist.']
    if errors:
        raise exceptions.ValidationError({"items": dict(sorted(errors.items(), key=lambda kv: int(kv[0])))})
    for organization_id in set(organizations.values()):
        require_role_in(user, organization_id, OFFICE_INTEGRATION)
    return rows


@transaction.atomic
def write(rows: list[Row], *, actor=None) -> BulkResult:
    """Upsert the rows and their history rows; all or nothing."""
    now = timezone.now()
    user_id = actor.pk if actor is not None else None
    if connection.vendor == "postgresql":
        created, updated = _write_postgresql(rows, now, user_id)
    else:
        created, updated = _write_generic(rows, now, actor)
    return BulkResult(created=created, updated=updated, unchanged=len(rows) - created - updated)


def _write_postgresql(rows: list[Row], now, user_id) -> tuple[int, int]:
    table = Measurement._meta.db_table
    history = Measurement.history.model._meta.db_table
    # One statement: insert-or-update only rows that differ, and write a history row for
    # each row that was inserted (xmax = 0) or changed. Unchanged rows return nothing.
    sql = f"""
        WITH input AS (
            SELECT * FROM unnest(%s::bigint[], %s::date[], %s::numeric[], %s::text[])
                AS t(metric_id, period_end, value, source)
        ), written AS (
            INSERT INTO {table} AS m (metric_id, period_end, value, source, recorded_at)
            SELECT metric_id, period_end, value, source, %s FROM input
            ON CONFLICT (metric_id, period_end) DO UPDATE
                SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = EXCLUDED.recorded_at
                WHERE (m.value, m.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
            RETURNING m.id, m.metric_id, m.period_end, m.value, m.source, m.recorded_at, (m.xmax = 0) AS inserted
        ), logged AS (
            INSERT INTO {history}
                (id, metric_id, period_end, value, source, recorded_at,
                 history_date, history_change_reason, history_type, history_user_id)
            SELECT id, metric_id, period_end, value, source, recorded_at,
                   %s, %s, CASE WHEN inserted THEN '+' ELSE '~' END, %s
            FROM written
            RETURNING history_type
        )
        SELECT count(*) FILTER (WHERE history_type = '+'), count(*) FILTER (WHERE history_type = '~') FROM logged
    """
    params = [
        [r.metric_id for r in rows],
        [r.period_end for r in rows],
        [r.value for r in rows],
        [r.source for r in rows],
        now,
        now,
        CHANGE_REASON,
        user_id,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created, updated = cursor.fetchone()
    return created, updated


def _write_generic(rows: list[Row], now, actor) -> tuple[int, int]:
    metric_ids = {r.metric_id for r in rows}
    low, high = min(r.period_end for r in rows), max(r.period_end for r in rows)
    existing = {
        (m, p): (v, s)
        for m, p, v, s in Measurement.objects.filter(
            metric_id__in=metric_ids, period_end__gte=low, period_end__lte=high
        ).values_list("metric_id", "period_end", "value", "source")
    }
    new, changed = [], []
    for r in rows:
        before = existing.get((r.metric_id, r.period_end))
        if before is not None and before == (r.value, r.source):
            continue
        obj = Measurement(
            metric_id=r.metric_id, period_end=r.period_end, value=r.value, source=r.source, recorded_at=now
        )
        (new if before is None else changed).append(obj)
    written = new + changed
    if not written:
        return 0, 0
    Measurement.objects.bulk_create(
        written,
        update_conflicts=True,
        unique_fields=["metric", "period_end"],
        update_fields=["value", "source", "recorded_at"],
        batch_size=2000,
    )
    history = Measurement.history
    for objs, update in ((new, False), (changed, True)):
        if objs:
            history.bulk_history_create(
                objs,
                update=update,
                default_user=actor,
                default_change_reason=CHANGE_REASON,
                default_date=now,
                batch_size=2000,
            )
    return len(new), len(changed)
