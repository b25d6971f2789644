"""Measurements' one writer: `measurements_upsert` (set-wise, any number of items, the
validation rules included); `measurement_upsert` is its one-item form. The API (single and
bulk), the admin and imports all call it.
"""

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from programs.actors import Actor, stamp
from programs.changelog import record_history
from programs.changes import Change
from programs.dates import date_range_message, is_iso_date_text, is_sane_date
from programs.numbers import is_number_text, parse_id

from .models import MEASUREMENT_DELETE_RULE, Measurement, Metric

#: A measured value keeps one whole digit of headroom below its column (20 digits, 4
#: places): SQLite stores decimals as doubles and reads a value at the very top back rounded
#: past the column, which would break every later read of the row.
MEASUREMENT_MAX = Decimal("1e15")
_FOUR_PLACES = Decimal("0.0001")
_SOURCE_MAX = Measurement._meta.get_field("source").max_length
# ASCII digits only ([0-9], not \d: any Unicode digit, "２０２６" or "٣"), whole text
# (fullmatch: `$` also matches before a trailing newline).
_SURROGATE = re.compile("[\ud800-\udfff]")
_REQUIRED = "This field is required."
_ENTRY_NAME_CHARS = Change._meta.get_field("object_repr").max_length
_ACTOR_CHARS = Change._meta.get_field("actor_label").max_length


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    """One validated item: what `measurements_upsert` writes."""

    metric_id: int
    period_end: date
    value: Decimal
    source: str
    organization_id: int  # the metric's, copied onto the row (Measurement.organization)


@dataclass(frozen=True)
class UpsertResult:
    created: int
    updated: int
    unchanged: int


class MeasurementItemsInvalid(ValidationError):
    """Items refused by `measurements_upsert`; nothing was written.

    `item_errors` is `{index: {field: [message, ...]}}` in item order, so an entry point can
    name the item (the API's index, a spreadsheet's row); `messages` says the same in words.
    """

    def __init__(self, item_errors: dict[int, dict[str, list[str]]]) -> None:
        self.item_errors = dict(sorted(item_errors.items()))
        super().__init__(
            [
                f"Item {index}, {field}: {message}"
                for index, errors in self.item_errors.items()
                for field, messages in errors.items()
                for message in messages
            ]
        )


def validate_value(value) -> Decimal:
    """A measured value: a finite number (JSON number or numeric text) of magnitude below
    1e15, rounded to 4 decimal places (integrations send floats with more digits than we keep;
    rounding is kinder than refusing 73.456789)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise ValidationError({"value": "A finite number is required."})
    if isinstance(value, str) and len(value) > 100:
        raise ValidationError({"value": "A finite number is required."})
    # Decimal() reads any Unicode digit ("٣" is 3) and "_" as a separator ("1_000").
    if isinstance(value, str) and not is_number_text(value):
        raise ValidationError({"value": "A number is required (digits 0-9)."})
    try:
        number = Decimal(value) if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({"value": "A number is required."}) from None
    if not number.is_finite():
        raise ValidationError({"value": "The value must be a finite number (not NaN or Infinity)."})
    if abs(number) >= MEASUREMENT_MAX:
        raise ValidationError({"value": "The value is out of range (at most 15 digits before the point)."})
    return number.quantize(_FOUR_PLACES)


def _metric_id(value) -> int | None:
    return value.pk if isinstance(value, Metric) else parse_id(value)


def _period_end(value) -> date | str:
    """A date, or the message saying why `value` is not one."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value if is_sane_date(value) else date_range_message(value)
    if not isinstance(value, str) or not is_iso_date_text(value):
        return "Date has wrong format. Use YYYY-MM-DD."
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return "Not a valid date."
    return day if is_sane_date(day) else date_range_message(day)


def _source(value) -> str | None:
    if not isinstance(value, str) or len(value) > _SOURCE_MAX or "\x00" in value:
        return None
    if _SURROGATE.search(value):  # lone surrogates cannot be stored
        return None
    return value


_INTEGER_ID = "A whole number (JSON integer) is required."


def _row(item, integer_ids: bool = False) -> tuple[tuple | None, dict[str, list[str]]]:
    """One item's field rules; (metric_id, period_end, value, source), or its errors by field.

    `integer_ids`: the items are a JSON body, whose `metric` is a JSON integer (as in a
    single POST); a digit text ("3") is refused. Text sources (CSV, spreadsheets) send
    ASCII digit texts.
    """
    if not isinstance(item, Mapping):
        return None, {"non_field_errors": ["Each item must be an object."]}
    errors: dict[str, list[str]] = {}
    metric_id = _metric_id(item.get("metric"))
    if "metric" not in item:
        errors["metric"] = [_REQUIRED]
    elif integer_ids and isinstance(item["metric"], str):
        errors["metric"] = [_INTEGER_ID]
    elif metric_id is None:
        errors["metric"] = [f'Invalid pk "{item["metric"]}" - object does not exist.']
    period_end = _period_end(item["period_end"]) if "period_end" in item else _REQUIRED
    if isinstance(period_end, str):
        errors["period_end"] = [period_end]
    value = None
    if "value" not in item:
        errors["value"] = [_REQUIRED]
    else:
        try:
            value = validate_value(item["value"])
        except ValidationError as exc:
            errors["value"] = exc.message_dict["value"]
    source = _source(item["source"]) if "source" in item else ""
    if item.get("source", "") is None:
        errors["source"] = ["This field may not be null: send a text, or leave the field out."]
    elif source is None:
        errors["source"] = [f"A text of at most {_SOURCE_MAX} characters is required."]
    if errors:
        return None, errors
    return (metric_id, period_end, value, source), {}


def measurement_rows(
    items: Sequence,
    *,
    metrics: QuerySet | None = None,
    authorize: Callable[[set[int]], None] | None = None,
    integer_ids: bool = False,
) -> list[MeasurementRow]:
    """Every item checked against the measurement rules; raises MeasurementItemsInvalid.

    The rules: `metric` an id (or Metric) among `metrics` (default: every metric; the API
    passes the caller's), `period_end` a date (or YYYY-MM-DD), `value` per `validate_value`,
    `source` a text of at most 200 characters; one value per (metric, period_end) in a call
    (a repeat names the first item). Digits are ASCII 0-9. `integer_ids=True` (a JSON body)
    takes `metric` as a JSON integer only; otherwise an ASCII digit text is an id too.
    `authorize` is called with the ids of the organizations the items touch, once they are
    all valid, and may raise (the API checks roles there).
    Reads only: one query for the metrics.
    """
    rows: list[tuple | None] = []
    errors: dict[int, dict[str, list[str]]] = {}
    first_index: dict[tuple[int, date], int] = {}
    for index, item in enumerate(items):
        row, item_errors = _row(item, integer_ids)
        rows.append(row)
        if item_errors:
            errors[index] = item_errors
            continue
        key = (row[0], row[1])
        if key in first_index:
            duplicate = f"Duplicate of item {first_index[key]}: one value per metric and period_end."
            errors[index] = {"period_end": [duplicate]}
        else:
            first_index[key] = index

    scope = Metric.objects.all() if metrics is None else metrics
    wanted = {row[0] for row in rows if row is not None}
    organizations = dict(scope.filter(pk__in=wanted).values_list("id", "program__organization_id")) if wanted else {}
    for index, row in enumerate(rows):
        if row is not None and row[0] not in organizations:
            errors.setdefault(index, {})["metric"] = [f'Invalid pk "{row[0]}" - object does not exist.']
    if errors:
        raise MeasurementItemsInvalid(errors)
    if authorize is not None:
        authorize(set(organizations.values()))
    return [MeasurementRow(m, p, v, s, organizations[m]) for m, p, v, s in rows]


@transaction.atomic
def measurements_upsert(
    *,
    items: Sequence,
    actor=None,
    metrics: QuerySet | None = None,
    authorize: Callable[[set[int]], None] | None = None,
    reason: str | None = None,
    integer_ids: bool = False,
) -> UpsertResult:
    """Write the value of each (metric, period_end) item; all items or none.

    Items are mappings `{metric, period_end, value, source}`, validated by
    `measurement_rows` (see there; `MeasurementItemsInvalid` names each bad item's index and
    nothing is written). A new pair is created, a changed value or source is updated (with
    a new recorded_at), an identical item changes nothing. Every created or changed row gets
    its history row (simple-history: `+` or `~`, `reason`, the acting user or API key) and
    its change-log entry, so no path leaves a gap in the audit trail.

    Set-wise: one query for the metrics, then on PostgreSQL one statement upserts the rows
    and writes their history (elsewhere a read, a bulk upsert and a bulk history insert),
    whatever the number of items. Safe to re-run: the same items again change nothing.
    """
    rows = measurement_rows(items, metrics=metrics, authorize=authorize, integer_ids=integer_ids)
    if not rows:
        return UpsertResult(created=0, updated=0, unchanged=0)
    now = timezone.now()
    actor = Actor.of(actor)
    if connection.vendor == "postgresql":
        created, updated = _upsert_postgresql(rows, now, actor, reason)
    else:
        snapshots = _upsert_generic(rows, now, actor, reason)
        record_history(Measurement, snapshots)
        created = sum(1 for s in snapshots if s.history_type == "+")
        updated = len(snapshots) - created
    return UpsertResult(created=created, updated=updated, unchanged=len(rows) - created - updated)


def measurement_upsert(
    *, metric: Metric, period_end: date, value, source: str = "", actor=None
) -> tuple[Measurement, bool]:
    """One item of `measurements_upsert`: the row as written, and whether it was created.

    Raises ValidationError by field (`{"value": [...]}`) when the item breaks a rule.
    Idempotent, like the bulk form.
    """
    try:
        result = measurements_upsert(
            items=[{"metric": metric, "period_end": period_end, "value": value, "source": source}], actor=actor
        )
    except MeasurementItemsInvalid as exc:
        raise ValidationError(exc.item_errors[0]) from None
    return Measurement.objects.get(metric=metric, period_end=period_end), result.created == 1


def _upsert_postgresql(rows: list[MeasurementRow], now, actor: Actor, reason: str | None) -> tuple[int, int]:
    """(created, updated): one statement upserts the rows, writes their history rows and
    their change-log entries.

    The entries are what `programs.changelog.record_history` writes for these snapshots
    (the measurement's name, the program and organization, the value and source each
    before → after as the log shows them, the actor's name), written by the database from
    the rows as written instead of ten thousand snapshots loaded into Python and copied
    back: that took two thirds of a 10,000-item ingest. `test_the_statement_logs_what_
    record_history_would` holds the two to the same entries.
    """
    table = Measurement._meta.db_table
    history = Measurement.history.model._meta.db_table
    quote = connection.ops.quote_name
    # The values replaced are read from the rows themselves, locked: FOR UPDATE returns a
    # row's latest committed version, so a concurrent writer's value is the one shown as
    # replaced. The insert joins them so that each row is locked before this statement
    # updates it (a row this statement has updated is no longer lockable by it, and would
    # drop out). Rows, snapshots and entries are written in the items' order. Unchanged
    # rows are neither updated nor logged. One race is left as it is: when two writers
    # insert the same new (metric, period_end) at once, the second one's `before` could not
    # see the first one's row, so its entry is a change with no old value; both snapshots
    # are in the history table, which is where the replaced value can still be read.
    sql = f"""
        WITH input AS (
            SELECT (item->>0)::bigint AS metric_id, (item->>1)::date AS period_end,
                   (item->>2)::numeric AS value, item->>3 AS source, (item->>4)::bigint AS organization_id,
                   position
            FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS items(item, position)
        ), before AS (
            SELECT m.metric_id, m.period_end, m.value, m.source
            FROM {table} AS m JOIN input USING (metric_id, period_end)
            FOR UPDATE OF m
        ), written AS (
            INSERT INTO {table} AS m (metric_id, period_end, value, source, organization_id, recorded_at)
            SELECT metric_id, period_end, input.value, input.source, organization_id, %(now)s
            FROM input LEFT JOIN before USING (metric_id, period_end)
            ORDER BY position
            ON CONFLICT (metric_id, period_end) DO UPDATE
                SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = EXCLUDED.recorded_at
                WHERE (m.value, m.source) IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.source)
            RETURNING m.id, m.metric_id, m.period_end, m.value, m.source, m.organization_id, m.recorded_at,
                      (m.xmax = 0) AS inserted
        ), logged AS (
            INSERT INTO {history}
                (id, metric_id, period_end, value, source, organization_id, recorded_at,
                 history_date, history_change_reason, history_type, history_user_id, history_api_key_id)
            SELECT id, metric_id, period_end, value, source, organization_id, recorded_at,
                   %(now)s, %(reason)s, CASE WHEN inserted THEN '+' ELSE '~' END, %(user)s, %(key)s
            FROM written
            RETURNING history_id, history_type, id, metric_id, period_end, value, source, organization_id
        ), entries AS (
            INSERT INTO {quote(Change._meta.db_table)}
                (organization_id, program_id, model, object_id, object_repr, action, changes, reason,
                 actor_user_id, actor_api_key_id, actor_label, history_id, at)
            SELECT logged.organization_id, metric.program_id, %(model)s, logged.id,
                   left(metric.name || ' · ' || to_char(logged.period_end, 'YYYY-MM-DD') || ' = '
                        || logged.value::text, {_ENTRY_NAME_CHARS}),
                   logged.history_type,
                   CASE WHEN logged.history_type = '+' THEN '[]'::jsonb ELSE (
                       SELECT coalesce(jsonb_agg(change ORDER BY position), '[]'::jsonb) FROM (VALUES
                           (1, CASE WHEN before.value IS DISTINCT FROM logged.value THEN jsonb_build_object(
                               'field', 'value', 'label', %(value_label)s::text,
                               'old', trim_scale(before.value)::text, 'new', trim_scale(logged.value)::text) END),
                           (2, CASE WHEN before.source IS DISTINCT FROM logged.source THEN jsonb_build_object(
                               'field', 'source', 'label', %(source_label)s::text,
                               'old', before.source, 'new', logged.source) END)
                       ) AS moved(position, change) WHERE change IS NOT NULL) END,
                   %(reason_text)s, %(user)s, %(key)s, %(actor)s, logged.history_id, %(now)s
            FROM logged
            JOIN {Metric._meta.db_table} AS metric ON metric.id = logged.metric_id
            LEFT JOIN before USING (metric_id, period_end)
            ORDER BY logged.history_id
            ON CONFLICT (model, history_id) DO NOTHING
        )
        SELECT count(*) FILTER (WHERE history_type = '+'), count(*) FROM logged
    """
    params = {
        # One JSON text: psycopg adapts five arrays of 10,000 values element by element in
        # Python, at twice the cost of `json.dumps` and PostgreSQL's parsing together.
        "rows": json.dumps(
            [[r.metric_id, r.period_end.isoformat(), str(r.value), r.source, r.organization_id] for r in rows]
        ),
        "now": now,
        "reason": reason,
        "reason_text": (reason or "").strip(),
        "user": actor.user_id,
        "key": actor.api_key_id,
        "actor": str(actor)[:_ACTOR_CHARS],
        "model": Measurement._meta.label_lower,
        "value_label": str(Measurement._meta.get_field("value").verbose_name),
        "source_label": str(Measurement._meta.get_field("source").verbose_name),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created, written = cursor.fetchone()
    return created, written - created


def _upsert_generic(rows: list[MeasurementRow], now, actor: Actor, reason: str | None) -> list:
    """Any other database: read what exists, then a bulk upsert and bulk history rows."""
    low, high = min(r.period_end for r in rows), max(r.period_end for r in rows)
    existing = {
        (m, p): (v, s)
        for m, p, v, s in Measurement.objects.filter(
            metric_id__in={r.metric_id for r in rows}, period_end__gte=low, period_end__lte=high
        ).values_list("metric_id", "period_end", "value", "source")
    }
    new, changed = [], []
    for r in rows:
        before = existing.get((r.metric_id, r.period_end))
        if before is not None and before == (r.value, r.source):
            continue
        obj = Measurement(
            metric_id=r.metric_id,
            period_end=r.period_end,
            value=r.value,
            source=r.source,
            organization_id=r.organization_id,
            recorded_at=now,
        )
        (new if before is None else changed).append(obj)
    if not new and not changed:
        return []
    Measurement.objects.bulk_create(
        new + changed,
        update_conflicts=True,
        unique_fields=["metric", "period_end"],
        update_fields=["value", "source", "recorded_at"],
        batch_size=2000,
    )
    snapshots = []
    for objs, update in ((new, False), (changed, True)):
        if objs:
            snapshots += Measurement.history.bulk_history_create(
                objs,
                update=update,
                default_user=actor.user,
                default_change_reason=reason,
                default_date=now,
                batch_size=2000,
                custom_historical_attrs={"history_api_key_id": actor.api_key_id},
            )
    return snapshots


def measurement_delete_refusal(measurement: Measurement) -> str | None:
    """Why `measurement` may not be deleted (MEASUREMENT_DELETE_RULE once 24 hours past its
    first recording), or None. Read-only (one query); `measurement_delete` decides again."""
    past = Measurement.objects.filter(pk=measurement.pk).past_delete_window().exists()
    return MEASUREMENT_DELETE_RULE if past else None


@transaction.atomic
def measurement_delete(*, measurement: Measurement, actor=None) -> None:
    """Delete a measurement recorded less than 24 hours ago; any other is corrected, never deleted.

    A refusal raises ValidationError with MEASUREMENT_DELETE_RULE and writes nothing. The
    deletion's history row names the actor. Not idempotent.
    """
    locked = Measurement.objects.select_for_update().get(pk=measurement.pk)
    refusal = measurement_delete_refusal(locked)
    if refusal:
        raise ValidationError(refusal, code="evidence")
    stamp(locked, actor)
    locked.delete()
