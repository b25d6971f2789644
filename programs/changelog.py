"""Writing the change log: each snapshot django-simple-history takes becomes a `Change`.

Two ways in, one code path (`record_history`):
- every single save or delete: simple-history's `post_create_historical_record` signal,
  received here for any model whose history is `programs.history.tracked()`;
- writes in bulk (measurement ingest, the scan's flags): `bulk_history`, which writes the
  snapshots with `bulk_history_create` and their entries set-wise, or `record_history` on
  snapshots written by SQL.

This module knows no app above `programs`: it finds a row's organization and program
through the path its model's QuerySet names (`programs.scoping`), the values before a
change in the previous snapshot, and the names of referenced rows through their models.
A set of snapshots of one model costs a fixed number of queries whatever its size: one
per hop of the scoping path, two for the previous snapshots, one per referenced model
whose reference changed, one for the actors' names, one insert.
"""

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, models, transaction
from django.db.models import F, Window
from django.db.models.functions import Lag
from django.dispatch import receiver
from django.utils import timezone
from simple_history.signals import post_create_historical_record

from .actors import Actor, actor_label
from .changes import VALUE_CHARS, Change
from .copy_insert import COPY_FROM
from .history import SECRETS_CHANGED_ATTRIBUTE, ActorHistoricalModel
from .models import ApiKey
from .scoping import organization_path, program_path

# Ids per IN list (SQLite allows 32,766 parameters; PostgreSQL 65,535).
BATCH = 2000
# Words in a field name that mark a secret: the log says it changed, never the values.
_SECRET_WORDS = ("secret", "token", "password", "key_hash")


@receiver(post_create_historical_record)
def _record_one(sender, instance, history_instance, **kwargs) -> None:
    if isinstance(history_instance, ActorHistoricalModel):
        record_history(type(instance), [history_instance], instances=[instance])


def bulk_history(model: type[models.Model], objs: Sequence[models.Model], *, update: bool, actor=None, reason=""):
    """Snapshots and change-log entries for rows written in bulk (`bulk_create`, `update()`,
    raw SQL), which send no signal. `objs` hold the rows as written; `actor` is anything
    `Actor.of` accepts, None being the system (never the request's user: the caller says
    who acted). Returns the snapshots. Not idempotent: each call adds snapshots."""
    if not objs:
        return []
    actor = Actor.of(actor)
    if connection.vendor == "postgresql":
        rows = _copy_into_history(model, objs, update=update, actor=actor, reason=reason)
    else:
        for obj in objs:
            obj._history_user = actor.user
        rows = model.history.bulk_history_create(
            objs,
            update=update,
            default_user=actor.user,
            default_change_reason=reason,
            custom_historical_attrs={"history_api_key_id": actor.api_key_id},
        )
    record_history(model, rows, instances=objs)
    return rows


def _copy_into_history(model: type[models.Model], objs: Sequence[models.Model], *, update: bool, actor, reason):
    """The snapshots `bulk_history_create` would write, copied by the database from the rows
    as written (`INSERT … SELECT`): no historical instance built in Python and no value
    sent back as a parameter. A scan's thousands of new flags each carry an evidence
    document; building and escaping them again cost as much as inserting the flags.
    Returns the snapshots in the order of `objs`."""
    snapshot = model.history.model
    quote = connection.ops.quote_name
    copied = ", ".join(quote(field.column) for field in snapshot.tracked_fields)
    sql = (
        f"INSERT INTO {quote(snapshot._meta.db_table)} ({copied}, history_date, history_change_reason, "
        f"history_type, history_user_id, history_api_key_id) "
        f"SELECT {copied}, %s, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
        f"WHERE {quote(model._meta.pk.column)} = ANY(%s) "
        f"RETURNING {', '.join(quote(field.column) for field in snapshot._meta.concrete_fields)}"
    )
    params = [timezone.now(), reason, "~" if update else "+", actor.user_id, actor.api_key_id, [o.pk for o in objs]]
    # A raw queryset loads the returned rows as a queryset would (JSON decoded, dates as
    # dates); evaluated once, since evaluating it runs the INSERT.
    by_pk = {row.id: row for row in snapshot._base_manager.raw(sql, params)}
    rows = [by_pk[obj.pk] for obj in objs]
    if actor.user is not None:
        for row in rows:  # as simple-history's rows hold it: the change log names the user without a query
            row.history_user = actor.user
    return rows


def record_history(
    model: type[models.Model], snapshots: Sequence, *, instances: Sequence[models.Model] | None = None
) -> int:
    """Write the change-log entries of `snapshots` (historical rows of `model`); returns how many.

    `instances`, when given, are the live rows in the same order (their names are taken
    from them as loaded, which saves queries), and name the secret fields their writer
    changed (`history.secret_changed`; listed as changed, without values). A change whose
    fields all stayed the same (a save that changed nothing) writes no entry. Safe to
    re-run: an entry per snapshot at most (unique on model and snapshot id).
    """
    snapshots = list(snapshots)
    if not snapshots:
        return 0
    hidden = _secrets_changed(model, snapshots, instances)
    scopes = _scopes(model, snapshots)
    previous = _previous(snapshots)
    names = _names(model, snapshots, instances)
    actors = _actor_labels(snapshots)
    moves = [_diff(s, previous.get(s.history_id)) if s.history_type == "~" else [] for s in snapshots]
    labels = _reference_labels(model, moves)
    label = model._meta.label_lower
    rows = []
    for snapshot, fields in zip(snapshots, moves, strict=True):
        secrets = hidden.get(snapshot.history_id, [])
        if snapshot.history_type == "~" and snapshot.history_id in previous and not fields and not secrets:
            continue  # saved without a change
        organization_id, program_id = scopes.get(snapshot.history_id, (None, None))
        rows.append(
            {
                "organization_id": organization_id,
                "program_id": program_id,
                "model": label,
                "object_id": snapshot.id,
                "object_repr": names[snapshot.history_id][:300],
                "action": snapshot.history_type,
                "changes": [_display(model, field, old, new, labels) for field, old, new in fields] + secrets,
                "reason": (snapshot.history_change_reason or "").strip(),
                "actor_user_id": snapshot.history_user_id,
                "actor_api_key_id": snapshot.history_api_key_id,
                "actor_label": actors.get((snapshot.history_user_id, snapshot.history_api_key_id), "")[:300],
                "history_id": snapshot.history_id,
                "at": snapshot.history_date,
            }
        )
    if len(rows) >= STAGED_FROM and connection.vendor == "postgresql":
        return _insert_staged(rows)
    # Otherwise the ORM's one bulk insert (Django sizes the batches to the database).
    Change.objects.bulk_create([Change(**row) for row in rows], ignore_conflicts=True)
    return len(rows)


# From this many entries a COPY through a staging table beats Django's one-statement bulk
# insert, for two more queries (the trade-off and the threshold of `insert_many`: a first
# scan's 3,716 entries at scale 10 took 260–350 ms one way, 130–210 ms the other); below it
# (a daily scan, an import, a save), one query.
STAGED_FROM = COPY_FROM


# The columns of an entry, for the staged insert of many entries.
_COLUMNS = {
    "organization_id": "bigint",
    "program_id": "bigint",
    "model": "text",
    "object_id": "bigint",
    "object_repr": "text",
    "action": "text",
    "changes": "jsonb",
    "reason": "text",
    "actor_user_id": "integer",
    "actor_api_key_id": "bigint",
    "actor_label": "text",
    "history_id": "bigint",
    "at": "timestamptz",
}


def _insert_staged(rows: list[dict]) -> int:
    """Many entries at once: COPY into a temporary table, then one INSERT … ON CONFLICT DO
    NOTHING (the same rows as the ORM path, and as safe to re-run). COPY writes each value
    in psycopg's C code; passing ten thousand JSON texts as array parameters escaped every
    quote of them in Python, which made the change log cost twice the rows it records."""
    table, columns = Change._meta.db_table, ", ".join(_COLUMNS)
    staging = ", ".join(f"{column} {kind}" for column, kind in _COLUMNS.items())
    # ON COMMIT DELETE ROWS needs a transaction around the COPY and the insert.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS change_staging ({staging}) ON COMMIT DELETE ROWS")
        with cursor.copy(f"COPY change_staging ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [json.dumps(row["changes"]) if column == "changes" else row[column] for column in _COLUMNS]
                )
        # Moving the rows out empties the staging table for a second call in the same transaction.
        cursor.execute(
            f"WITH staged AS (DELETE FROM change_staging RETURNING {columns}) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM staged "
            "ON CONFLICT (model, history_id) DO NOTHING"
        )
        return cursor.rowcount


# --- where a row belongs ----------------------------------------------------------------


def _scopes(model, snapshots) -> dict[int, tuple[int | None, int | None]]:
    """snapshot id → (organization id, program id), one query per first hop of the paths.

    A snapshot carries the row's own references (`session_id`...), so the walk starts
    there and needs no live row: a deleted row still finds its organization while its
    parents exist (Django deletes children before their parents).
    """
    paths = {"organization": organization_path(model), "program": program_path(model)}
    hops: dict[str, dict[str, str]] = defaultdict(dict)  # first hop → {what: rest of path}
    for what, path in paths.items():
        if path and path != "pk" and "__" in path:
            first, rest = path.split("__", 1)
            hops[first][what] = rest
    resolved: dict[tuple[str, int], dict[str, int | None]] = {}
    for first, rests in hops.items():
        related = model._meta.get_field(first).related_model
        ids = {getattr(s, f"{first}_id") for s in snapshots} - {None}
        whats = list(rests)
        for chunk in _chunks(sorted(ids)):
            for pk, *values in related._base_manager.filter(pk__in=chunk).values_list("pk", *(rests[w] for w in whats)):
                resolved[(first, pk)] = dict(zip(whats, values, strict=True))

    def walk(snapshot, what: str) -> int | None:
        path = paths[what]
        if not path:
            return None
        if path == "pk":
            return snapshot.id
        if "__" not in path:
            return getattr(snapshot, f"{path}_id")
        first = path.split("__", 1)[0]
        return resolved.get((first, getattr(snapshot, f"{first}_id")), {}).get(what)

    return {s.history_id: (walk(s, "organization"), walk(s, "program")) for s in snapshots}


# --- what changed -----------------------------------------------------------------------


def _previous(snapshots) -> dict[int, object]:
    """snapshot id → the snapshot of the same row just before it (changes only)."""
    changed = [s for s in snapshots if s.history_type == "~"]
    if not changed:
        return {}
    historical = type(changed[0])
    if len(changed) == 1:
        s = changed[0]
        before = (
            historical.objects.filter(id=s.id, history_id__lt=s.history_id).order_by("-history_id").first()
            if s.history_id
            else None
        )
        return {s.history_id: before} if before is not None else {}
    # Each row's snapshots in order, the one before read with LAG: one pass over the
    # rows' snapshots (the `id` index). A correlated "latest earlier snapshot" subquery
    # per change made PostgreSQL walk the primary key backwards past every newer
    # snapshot, and a bulk update of 10,000 measurements took 24 s.
    wanted = {s.history_id for s in changed}
    pairs: dict[int, int] = {}
    for chunk in _chunks(sorted({s.id for s in changed})):
        steps = (
            historical.objects.filter(id__in=chunk)
            .annotate(before_id=Window(Lag("history_id"), partition_by=[F("id")], order_by=F("history_id").asc()))
            .order_by()
            .values_list("history_id", "before_id")
        )
        pairs.update((after, before) for after, before in steps if after in wanted and before is not None)
    rows = {}
    for chunk in _chunks(sorted(set(pairs.values()))):
        rows.update({r.history_id: r for r in historical.objects.filter(history_id__in=chunk)})
    return {after: rows[before] for after, before in pairs.items() if before in rows}


def _diff(snapshot, before) -> list[tuple[models.Field, object, object]]:
    """(field, old, new) for each tracked field that differs. Timestamps that move along
    with other fields (recorded_at, last_detected_at...) are the change's own time, shown
    once as the entry's date; they are listed only when nothing else changed."""
    if before is None:
        return []
    moved = [
        (field, getattr(before, field.attname), getattr(snapshot, field.attname))
        for field in snapshot.tracked_fields
        if not getattr(field, "generated", False) and getattr(before, field.attname) != getattr(snapshot, field.attname)
    ]
    substantive = [m for m in moved if not isinstance(m[0], models.DateTimeField)]
    return substantive or moved


def _secrets_changed(model, snapshots, instances) -> dict[int, list[dict]]:
    """snapshot id → the secret fields its writer said the save changed (`history.secret_changed`:
    they are not in the snapshots), as the log shows a secret. The mark is taken off the
    instance, so a later save of it says nothing it did not change."""
    if instances is None:
        return {}
    moved = {}
    for snapshot, instance in zip(snapshots, instances, strict=True):
        fields = instance.__dict__.pop(SECRETS_CHANGED_ATTRIBUTE, ())
        if fields and snapshot.history_type == "~":
            moved[snapshot.history_id] = [_secret(model._meta.get_field(name)) for name in dict.fromkeys(fields)]
    return moved


def _secret(field) -> dict:
    """A changed secret as the log shows it: which field, never a value (nor a hash of one)."""
    return {"field": field.name, "label": str(field.verbose_name), "secret": True}


def _reference_labels(model, moves) -> dict[tuple[type, object], str]:
    """(related model, id) → its name, for every reference that changed: one query per model."""
    wanted: dict[type, set] = defaultdict(set)
    for fields in moves:
        for field, old, new in fields:
            if field.is_relation:
                wanted[_related_model(model, field)].update(v for v in (old, new) if v is not None)
    labels = {}
    for related, ids in wanted.items():
        for chunk in _chunks(sorted(ids)):
            for obj in related._base_manager.filter(pk__in=chunk):
                labels[(related, obj.pk)] = _name(obj)
    return labels


def _related_model(model, field) -> type[models.Model]:
    # The historical model's reference columns point where the live model's do.
    return model._meta.get_field(field.name).related_model


def _display(model, field, old, new, labels) -> dict:
    live = model._meta.get_field(field.name)
    if any(word in live.name for word in _SECRET_WORDS):
        return _secret(live)
    entry = {"field": live.name, "label": str(live.verbose_name)}
    if live.is_relation:
        related = live.related_model
        return {
            **entry,
            "old": None if old is None else labels.get((related, old), f"#{old} (deleted)"),
            "new": None if new is None else labels.get((related, new), f"#{new} (deleted)"),
        }
    return {**entry, "old": _text(live, old), "new": _text(live, new)}


def _text(field, value) -> str | None:
    """A value as the log shows it: choices by label, decimals without trailing zeros."""
    if value is None:
        return None
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f").rstrip("0")
    elif isinstance(value, dt.datetime):
        text = value.isoformat(timespec="minutes")
    elif isinstance(value, dt.date):
        text = value.isoformat()
    elif isinstance(value, dict | list):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


# --- names ------------------------------------------------------------------------------


def _name(obj) -> str:
    try:
        return str(obj)
    except ObjectDoesNotExist:  # its __str__ follows a reference that is gone
        return f"#{obj.pk}"


def _names(model, snapshots, instances) -> dict[int, str]:
    """snapshot id → the record's name: from the live rows given, else from the snapshots
    with their references fetched set-wise (one query per reference field)."""
    if instances is not None:
        return {s.history_id: _name(obj) for s, obj in zip(snapshots, instances, strict=True)}
    references = [f.name for f in model._meta.concrete_fields if f.is_relation]
    if references and len(snapshots) > 1:
        models.prefetch_related_objects(snapshots, *references)
    return {s.history_id: _snapshot_name(model, s) for s in snapshots}


def _snapshot_name(model, snapshot) -> str:
    """The model's __str__ applied to the snapshot, which has the same fields (and their
    prefetched references): no live instance to build per row. A __str__ that needs more
    than fields gets the instance the snapshot describes."""
    try:
        return model.__str__(snapshot)
    except (AttributeError, ObjectDoesNotExist):
        return _name(snapshot.instance)


def _actor_labels(snapshots) -> dict[tuple, str]:
    """(user id, key id) → the actor's name now (frozen in the entry). Uses the objects the
    snapshots already hold (a request's user, a stamped key) before asking the database."""
    users, keys = {}, {}
    for s in snapshots:
        for cache, attname, name in ((users, "history_user_id", "history_user"), (keys, "history_api_key_id", None)):
            pk = getattr(s, attname)
            if pk is None or pk in cache:
                continue
            field = type(s)._meta.get_field(name or "history_api_key")
            cached = field.get_cached_value(s, None) if field.is_cached(s) else None
            cache[pk] = cached
    missing_users = [pk for pk, obj in users.items() if obj is None]
    if missing_users:
        users.update({u.pk: u for u in get_user_model()._base_manager.filter(pk__in=missing_users)})
    missing_keys = [pk for pk, obj in keys.items() if obj is None or not ApiKey.created_by.is_cached(obj)]
    if missing_keys:
        keys.update({k.pk: k for k in ApiKey.objects.select_related("created_by").filter(pk__in=missing_keys)})
    return {
        (s.history_user_id, s.history_api_key_id): actor_label(
            users.get(s.history_user_id), keys.get(s.history_api_key_id)
        )
        for s in snapshots
    }


def _chunks(items: Iterable, size: int = BATCH):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
