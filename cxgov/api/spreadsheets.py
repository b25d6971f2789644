"""Every list as a spreadsheet: `?format=csv` and `?format=xlsx` (SPEC §5, REST API).

The rows and fields are the JSON list's: the same queryset (scoping, filters, ordering),
the same representation (the serializer's, or `values_row` on the `.values()` read path),
every page at once up to `MAX_ROWS`. The rows are read in chunks by `.iterator()` and handed
as a generator to a *row-streaming renderer*, which writes them out as they come (CSV
through a `StreamingHttpResponse`, XLSX through openpyxl's write-only workbook), so memory
does not grow with the list.

The lists that are actions of a resource (a flag's comments, a metric's revisions, a
program's risk history) answer the same way through the same functions: the action is
named in its viewset's `spreadsheet_actions`, and passes its own rows.

The renderers are product code of `reports/` (spreadsheet import and export is its job,
SPEC §1), which this generic base may not import: they are named in the setting
`CXGOV_API_SPREADSHEET_RENDERERS` and recognised here by their `streams_rows` attribute.
"""

from collections.abc import Iterator, Sequence
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

#: The most rows one spreadsheet answer holds (SPEC §5: "every page up to 100,000 rows").
MAX_ROWS = 100_000
#: Rows fetched per database round trip while streaming.
CHUNK_ROWS = 2_000


@cache
def _renderer_classes() -> tuple[type, ...]:
    return tuple(import_string(path) for path in getattr(settings, "CXGOV_API_SPREADSHEET_RENDERERS", ()))


def spreadsheet_renderers() -> list:
    return [cls() for cls in _renderer_classes()]


def streams_rows(request) -> bool:
    return getattr(getattr(request, "accepted_renderer", None), "streams_rows", False)


def answer_errors_in_json(request, response) -> None:
    """An error of a spreadsheet request is still JSON (every error of the API is)."""
    if streams_rows(request) and getattr(response, "status_code", 200) >= 400 and hasattr(response, "data"):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type


def column_kind(field) -> str:
    """How a spreadsheet may type a column: decimals and dates become numbers and dates in XLSX."""
    if isinstance(field, serializers.DecimalField):
        return "decimal"
    if isinstance(field, serializers.DateField):
        return "date"
    return "text"


def check_row_count(count: int) -> None:
    """400 past `MAX_ROWS`, naming the count: a spreadsheet silently missing rows would be worse."""
    if count > MAX_ROWS:
        raise ValidationError(
            {"format": [f"The list has {count:,} rows; a spreadsheet holds at most {MAX_ROWS:,}. Narrow the filters."]}
        )


def stream_rows(request, *, serializer, rows: Iterator[dict], name: str):
    """Rows, already as the JSON has them, streamed by the accepted renderer under the
    serializer's readable fields (in order) as columns."""
    columns = {key: column_kind(field) for key, field in serializer.fields.items() if not field.write_only}
    return request.accepted_renderer.stream(columns=columns, rows=rows, name=name)


def spreadsheet_list(view, request, *, queryset=None, serializer=None, name: str | None = None):
    """The whole filtered list, streamed by the accepted renderer; 400 past `MAX_ROWS`.
    A spreadsheet holds every page, but `page` and `page_size` are still checked: a value
    the JSON list refuses is refused here too.

    An action that lists other rows than the viewset's (a flag's comments, a metric's
    revisions: see `ScopedViewSetMixin.spreadsheet_actions`) passes the `queryset` its JSON
    page is cut from (scoped and filtered already), the `serializer` of its rows and the
    file's `name`; its rows are that serializer's (never the viewset's `.values()` path)."""
    if view.paginator is not None:
        view.paginator.get_page_size(request)
        view.paginator.get_page_number(request, None)
    values_fields: tuple[str, ...] = ()
    plan = None
    if queryset is None:
        queryset = view.filter_queryset(view.get_queryset())
        serializer = view.get_serializer()
        values_fields = getattr(view, "values_fields", ())
        if not values_fields and hasattr(view, "values_plan"):
            plan = view.values_plan(queryset)
    check_row_count(queryset.count())
    if values_fields:
        rows: Iterator[dict] = map(view.values_row, queryset.values(*values_fields).iterator(chunk_size=CHUNK_ROWS))
    elif plan is not None:
        rows = plan.stream(queryset, CHUNK_ROWS)
    else:
        rows = map(serializer.to_representation, queryset.iterator(chunk_size=CHUNK_ROWS))
    return stream_rows(request, serializer=serializer, rows=rows, name=name or view.basename or "rows")


def spreadsheet_series(request, *, items: Sequence, serializer, name: str):
    """A list a selector reads whole (one query), not a queryset: e.g. a program's risk
    assessments. Its rows are `serializer`'s representation of each item, as in the JSON."""
    check_row_count(len(items))
    return stream_rows(request, serializer=serializer, rows=map(serializer.to_representation, items), name=name)
