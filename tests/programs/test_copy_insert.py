"""`insert_many`: the rows `bulk_create` would write, through COPY on PostgreSQL."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from accountability.choices import FlagKind, SubjectType
from accountability.models import Flag
from programs.copy_insert import COPY_FROM, insert_many
from tests.accountability.factories import FlagFactory
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db

AT = dt.datetime(2025, 6, 1, 6, 30, tzinfo=dt.UTC)
EVIDENCE = {"quote": 'He said "later" \\ twice', "tab": "a\tb", "line": "x\ny", "nested": [1, 2.5, None, {"ü": "∅"}]}


def _flags(program, n: int, *, first_subject: int = 1) -> list[Flag]:
    return [
        FlagFactory.build(
            program=program,
            organization=program.organization,
            kind=FlagKind.INITIATIVE_STALLED,
            subject_type=SubjectType.INITIATIVE,
            subject_id=first_subject + i,
            owner=None,
            title=f"Stalled \\N {i}",  # COPY's own escapes must not leak through
            evidence={**EVIDENCE, "i": i},
            first_detected_on=dt.date(2025, 6, 1),
            last_detected_on=dt.date(2025, 6, 1),
            first_detected_at=AT,
            last_detected_at=AT,
        )
        for i in range(n)
    ]


def _columns(flag: Flag) -> dict:
    row = model_to_dict(flag, fields=[f.name for f in Flag._meta.concrete_fields if f.name != "id"])
    row.pop("subject_id")
    return row


def _postgres_only():
    if connection.vendor != "postgresql":
        from tests.conftest import missing_service

        missing_service("COPY is PostgreSQL's")


def test_the_rows_are_those_bulk_create_writes_with_their_ids_set():
    program = ProgramFactory()
    n = COPY_FROM + 5
    copied = insert_many(Flag, _flags(program, n))
    bulk = Flag.objects.bulk_create(_flags(program, n, first_subject=10_000))
    assert all(f.pk is not None and not f._state.adding for f in copied)
    assert len({f.pk for f in copied}) == n
    stored = Flag.objects.in_bulk([f.pk for f in copied + bulk])
    for mine, theirs in zip(copied, bulk, strict=True):
        assert _columns(stored[mine.pk]) == _columns(stored[theirs.pk])
        assert stored[mine.pk].subject_id == mine.subject_id
    assert stored[copied[7].pk].evidence == {**EVIDENCE, "i": 7}
    assert stored[copied[7].pk].title == "Stalled \\N 7"
    # The sequence moved past the ids drawn: the next row gets a fresh one.
    assert FlagFactory(program=program).pk > max(f.pk for f in copied + bulk)


def test_on_postgresql_many_rows_are_one_id_query_and_one_copy():
    _postgres_only()
    program = ProgramFactory()
    with CaptureQueriesContext(connection) as ctx:
        insert_many(Flag, _flags(program, COPY_FROM))
    draw, copy = (q["sql"] for q in ctx.captured_queries)
    assert "nextval" in draw and copy.startswith('COPY "accountability_flag"')
    assert Flag.objects.filter(program=program).count() == COPY_FROM
    with CaptureQueriesContext(connection) as ctx:
        insert_many(Flag, _flags(program, COPY_FROM - 1, first_subject=5_000))
    (query,) = ctx.captured_queries  # below the threshold: Django's one INSERT
    assert query["sql"].startswith("INSERT INTO")


def test_a_broken_constraint_is_djangos_integrity_error_and_inserts_nothing():
    """Two live flags of the same (kind, subject) break the partial unique index: the
    whole batch is refused, and the transaction goes on once the savepoint is rolled back."""
    program = ProgramFactory()
    flags = _flags(program, COPY_FROM)
    flags[-1].subject_id = flags[0].subject_id
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_many(Flag, flags)
    assert not Flag.objects.filter(program=program).exists()
