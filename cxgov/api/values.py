"""An explicit read path for the lists proven hot: `.values()` rows, rendered by the resource.

DRF renders a list through its field machinery: a model instance per row, then
`get_attribute` and `to_representation` for every field of every row. For the lists the
API benchmark shows to be hot (flags, metrics, measurements; figures in docs/api.md) that
is most of the request. Such a viewset instead names the columns its list reads
(`values_fields`) and writes `values_row(row)`, which builds exactly the dict its
serializer builds: the same keys in the same order, the same text for decimals, dates and
date-times (the helpers below). Only `list` takes this path: retrieve, writes and the
OpenAPI schema use the serializer, which stays the description of the resource.
`tests/api/test_values_lists.py` checks, resource by resource, that both give the same
JSON bytes for the same rows, so a field added to the serializer and not here fails there.

Every other list whose serializer is made only of plain columns takes the same path
without a hand-written row: `values_plan` reads the serializer's own fields and, where each
reads one column of the row (a reference: its id) and is one of DRF's stock fields, whose
writer is a function of the value alone, reads those columns with `.values()` and writes
each value with the field's own `to_representation`, as DRF's serializer would. One field it
does not know (a method field, a many-to-many list, a custom field) keeps the whole list on
DRF's path. The serializer stays the one description of the resource, and DRF still writes
every value; what is saved is a model instance and an attribute walk per row and field. The
same test renders every such list both ways.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from rest_framework import fields, relations, serializers
from rest_framework.response import Response

from .spreadsheets import spreadsheet_list, streams_rows

_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(0, 11)}


def decimal_text(value: Decimal | None, places: int) -> str | None:
    """A DecimalField(decimal_places=places) as DRF writes it: fixed-point text, `places` decimals."""
    return None if value is None else f"{value.quantize(_QUANTUM[places]):f}"


def date_text(value: date | None) -> str | None:
    """A DateField as DRF writes it: YYYY-MM-DD."""
    return None if value is None else value.isoformat()


def datetime_text(value: datetime | None) -> str | None:
    """A DateTimeField as DRF writes it: ISO 8601 in the current time zone, UTC as "Z"."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ValuesListMixin:
    """`list` from `.values(*values_fields)` rendered by `values_row`; put it first in the bases.

    The queryset, filters, ordering and pagination are the viewset's own (scoping, filters
    and query counts are unchanged); only the rows' reading and rendering differ.
    """

    #: The columns (and annotations) `values_row` reads.
    values_fields: tuple[str, ...] = ()

    def values_row(self, row: dict) -> dict:
        """The serializer's representation of the row, built by hand from its columns."""
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        if streams_rows(request):
            return spreadsheet_list(self, request)
        queryset = self.filter_queryset(self.get_queryset()).values(*self.values_fields)
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response([self.values_row(row) for row in queryset])
        return self.get_paginated_response([self.values_row(row) for row in page])


# DRF's own writers of one value: each a function of the value and the field's settings
# alone (no instance, no context), so the list calls it on the column's value, as DRF would.
_VALUE_WRITERS = {
    fields.IntegerField.to_representation,
    fields.BigIntegerField.to_representation,
    fields.FloatField.to_representation,
    fields.DecimalField.to_representation,
    fields.CharField.to_representation,
    fields.BooleanField.to_representation,
    fields.ChoiceField.to_representation,
    fields.DateField.to_representation,
    fields.DateTimeField.to_representation,
    fields.JSONField.to_representation,
}


@dataclass(frozen=True)
class ValuesPlan:
    """The columns a list reads, and for each the key it is written under and the DRF field
    method that writes it (None: a reference, written as its id; nulls are written as null,
    as DRF's serializer does before it calls a field). `many` names the many-to-many fields
    written as lists of ids, each read for the whole page in one query (`attach_ids`)."""

    columns: tuple[str | None, ...]  # None: a many-to-many field's place
    keys: tuple[str, ...]
    writers: tuple[Callable | None, ...]
    many: tuple[tuple[str, models.ManyToManyField], ...] = ()

    def values(self, queryset):
        """`queryset` as the `.values()` of the columns this plan reads."""
        return queryset.values(*(column for column in self.columns if column is not None))

    def stream(self, queryset, chunk_size: int) -> Iterator[dict]:
        """Every row of `queryset`, read in chunks (a spreadsheet's), their ids per chunk."""
        values = self.values(queryset).iterator(chunk_size=chunk_size)
        while chunk := list(islice(values, chunk_size)):
            yield from self.rows(chunk)

    def rows(self, page) -> list[dict]:
        rows = [self.row(values) for values in page]
        for key, field in self.many:
            attach_ids(rows, key, field)
        return rows

    def row(self, values: dict) -> dict:
        row = {}
        for key, column, writer in zip(self.keys, self.columns, self.writers, strict=True):
            if column is None:
                row[key] = []  # filled for the whole page by `attach_ids`
                continue
            value = values[column]
            row[key] = value if writer is None or value is None else writer(value)
        return row


def attach_ids(rows: list[dict], key: str, field: models.ManyToManyField) -> None:
    """Fill `row[key]` with the ids of `field`'s related rows, for every row of the page, in
    one query: the related model's rows joined to the page's, in the related model's order
    (as `forum.members.all()` lists them), read as pairs of ids, no model instances."""
    if not rows:
        return
    by_id = {row["id"]: row[key] for row in rows}
    related = field.related_model._base_manager.filter(**{f"{field.related_query_name()}__in": list(by_id)})
    for owner_id, related_id in related.values_list(field.related_query_name(), "pk"):
        by_id[owner_id].append(related_id)


def _reference(field) -> bool:
    """A reference written as its id by DRF's own code (no custom pk field or writer)."""
    return (
        isinstance(field, relations.PrimaryKeyRelatedField)
        and field.pk_field is None
        and type(field).to_representation is relations.PrimaryKeyRelatedField.to_representation
    )


def values_plan(serializer: serializers.ModelSerializer, queryset) -> ValuesPlan | None:
    """How to write `serializer`'s representation of `queryset`'s rows from `.values()`, or
    None when a field is not a plain column (see the module's docstring)."""
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return None
    model, annotations = queryset.model, queryset.query.annotations
    columns, keys, writers, many = [], [], [], []
    for field in serializer._readable_fields:
        if len(field.source_attrs) != 1:
            return None  # "*" or a dotted path
        try:
            model_field = model._meta.get_field(field.source)
        except FieldDoesNotExist:
            model_field = None
        if model_field is None:
            # An annotation of the list's queryset (an initiative's last update) is a column of
            # its `.values()`, the same value the model instance would carry.
            if field.source not in annotations or type(field).to_representation not in _VALUE_WRITERS:
                return None
            columns.append(field.source)
            keys.append(field.field_name)
            writers.append(field.to_representation)
            continue
        if isinstance(model_field, models.ManyToManyField):
            known = (
                type(field).to_representation is relations.ManyRelatedField.to_representation
                and _reference(field.child_relation)
                and "id" in keys
            )
            if not known:
                return None
            many.append((field.field_name, model_field))
            columns.append(None)
            keys.append(field.field_name)
            writers.append(None)
            continue
        if not model_field.concrete:
            return None
        if isinstance(field, relations.RelatedField):
            if not (_reference(field) and (model_field.many_to_one or model_field.one_to_one)):
                return None
            writer = None
        elif type(field).to_representation in _VALUE_WRITERS:
            writer = field.to_representation
        else:
            return None
        columns.append(model_field.attname)
        keys.append(field.field_name)
        writers.append(writer)
    return ValuesPlan(tuple(columns), tuple(keys), tuple(writers), tuple(many))
