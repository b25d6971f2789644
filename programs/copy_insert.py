"""Insert many new rows and learn their ids: PostgreSQL COPY, or `bulk_create` elsewhere.

Django's bulk insert on PostgreSQL sends every value as a parameter of one statement, and
psycopg builds that statement in Python, escaping each quote of each text and JSON value:
for a scan's first thousands of flags (a JSON evidence document each) that was three
times the cost of the rows themselves. COPY streams the same values through psycopg's C
code. Its rows come back without ids, so the ids are drawn from the table's sequence
first, in one query: the rows are then exactly what `bulk_create` would have written,
with their primary keys set on the instances.
"""

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models, transaction

M = TypeVar("M", bound=models.Model)

# Below this many rows one INSERT costs less than the two round trips of drawing ids and
# a COPY (a daily scan raises a handful of flags).
COPY_FROM = 200


def insert_many(model: type[M], objs: Sequence[M]) -> list[M]:
    """Insert `objs` (new, unsaved instances of `model`) and set their primary keys.

    The same rows as `model.objects.bulk_create(objs)`: field defaults and `pre_save` hooks
    applied, values prepared by each field. A constraint the rows break raises Django's
    IntegrityError, as bulk_create would, and nothing is inserted (wrap the call in a
    savepoint to go on). No signals are sent, as with bulk_create.
    """
    objs = list(objs)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk and not f.generated]
    # A database default (`db_default`) is the INSERT's to fill in: leave those to Django.
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM or any(f.has_db_default() for f in fields):
        return model.objects.bulk_create(objs)
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [pk, *fields])
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        # COPY is psycopg's own call, outside Django's wrapper: map its errors the same way.
        with connection.wrap_database_errors, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj, new_id in zip(objs, ids, strict=True):
                values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                copy.write_row([new_id, *values])
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding, obj._state.db = False, connection.alias
    return objs
