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
"""

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
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
