"""Filter building blocks shared by the apps' filtersets, and the API's filter backends.

Every filter, ordering and page value is checked: a value that cannot be one is a 400
saying what is allowed, never silently ignored (which would list everything).

References filter by id with plain integer filters on the already-scoped queryset: an
id of another organization matches nothing (an empty page), never its rows, and costs no
extra query.
"""

import copy

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter as BaseOrderingFilter

from programs.dates import SaneDateValidator, sane_date
from programs.numbers import MAX_ID


def _ascii(value):
    """Python reads any script's digits as numbers ("３" is 3): a filter value is ASCII text."""
    if isinstance(value, str) and not value.isascii():
        raise forms.ValidationError("Use the digits 0-9.", code="invalid")
    return value


class AsciiIntegerField(forms.IntegerField):
    def to_python(self, value):
        return super().to_python(_ascii(value))


class AsciiDateField(forms.DateField):
    def to_python(self, value):
        return super().to_python(_ascii(value))


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.Filter):
    field_class = AsciiIntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "format": "date", "pattern": r"^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"})
class IsoDateFilter(filters.Filter):
    """A YYYY-MM-DD filter value in 1900-01-01..2999-12-31 (`programs.dates.sane_date`), else 400."""

    field_class = AsciiDateField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        validators = list(kwargs.get("validators", []))
        if not any(isinstance(v, SaneDateValidator) for v in validators):
            validators.append(sane_date)
        kwargs["validators"] = validators
        super().__init__(*args, **kwargs)


def date_range(field_name: str, *, on_date: bool = False) -> tuple[IsoDateFilter, IsoDateFilter]:
    """`<name>_after` (inclusive) and `<name>_before` (inclusive) filters, YYYY-MM-DD."""
    lookup = f"{field_name}__date" if on_date else field_name
    return (
        IsoDateFilter(field_name=lookup, lookup_expr="gte", label=f"{field_name} on or after (YYYY-MM-DD)"),
        IsoDateFilter(field_name=lookup, lookup_expr="lte", label=f"{field_name} on or before (YYYY-MM-DD)"),
    )


def choices(choice_class, field_name: str | None = None) -> filters.MultipleChoiceFilter:
    """One or more values: `?status=open&status=acknowledged`. Unknown values are a 400."""
    kwargs = {"choices": choice_class.choices, "distinct": False}
    if field_name:
        kwargs["field_name"] = field_name
    return filters.MultipleChoiceFilter(**kwargs)


class StrictBooleanField(forms.Field):
    """`true`/`false` (or `1`/`0`, any case); anything else is an error, not "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(f"Use true or false, not {str(value)[:20]!r}.", code="invalid")


def _strict_boolean(original: filters.BooleanFilter) -> filters.BooleanFilter:
    # django-filter reads "maybe" as "not given" and lists everything: a copy of the filter
    # (same field, lookup, method, label) whose form field refuses it instead.
    strict = copy.deepcopy(original)
    strict.field_class = StrictBooleanField
    strict.extra.pop("widget", None)
    strict.__dict__.pop("_field", None)
    return strict


_STRICT_FILTERSETS: dict[type, type] = {}


def strict_filterset(filterset_class: type) -> type:
    """`filterset_class` with every boolean filter strict (made once per class)."""
    strict = _STRICT_FILTERSETS.get(filterset_class)
    if strict is None:
        booleans = {
            name: _strict_boolean(f)
            for name, f in filterset_class.base_filters.items()
            if isinstance(f, filters.BooleanFilter)
        }
        strict = type(filterset_class.__name__, (filterset_class,), booleans) if booleans else filterset_class
        _STRICT_FILTERSETS[filterset_class] = strict
    return strict


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend: invalid values are a 400, and no work when no filter is named.

    Every value is checked (django-filter already refuses unknown choices, ids and dates;
    booleans are made strict by `strict_filterset`). Building a FilterSet deep-copies every
    filter and its form field; on an unfiltered list that is pure overhead (about a
    millisecond per request on the flags list), so it is skipped when no filter is named.
    """

    def get_filterset_class(self, view, queryset=None):
        filterset_class = super().get_filterset_class(view, queryset)
        return None if filterset_class is None else strict_filterset(filterset_class)

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = filterset_class.base_filters.keys()
        if not any(param in names for param in request.query_params):
            return queryset
        check_no_empty_values(request, filterset_class.base_filters)
        return super().filter_queryset(request, queryset, view)


def check_no_empty_values(request, named: dict) -> None:
    """400 for `?status=` and the like: an empty value is not a date, an id or a choice.

    django-filter reads an empty value as "no filter" (a form left blank), so a client
    sending `?due_on_before=` by mistake would get every row. Text filters may be empty.
    """
    errors = {
        name: ["A value is required here; leave the parameter out not to filter on it."]
        for name, values in request.query_params.lists()
        if name in named and not isinstance(named[name], filters.CharFilter) and any(v == "" for v in values)
    }
    if errors:
        raise ValidationError(errors)


def query_flag(request, name: str) -> bool:
    """A boolean query parameter (`true`/`false`, `1`/`0`); absent is false, anything else a 400."""
    if name not in request.query_params:
        return False
    try:
        value = StrictBooleanField().clean(request.query_params[name])
    except forms.ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None
    if value is None:
        raise ValidationError({name: ["Use true or false."]})
    return value


class OrderingFilter(BaseOrderingFilter):
    """DRF's `?ordering=a,-b`, with an unknown field refused (400) rather than ignored, and
    the allowed values in the schema (a comma-separated list of the view's ordering fields,
    each optionally prefixed with `-` for descending)."""

    def _allowed(self, view) -> list[str]:
        fields = getattr(view, "ordering_fields", None) or []
        return [f if isinstance(f, str) else f[0] for f in fields]

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.getlist(self.ordering_param)
        if not raw:
            return self.get_default_ordering(view)
        terms = [term.strip() for value in raw for term in value.split(",")]
        allowed = {f for f, _ in self.get_valid_fields(queryset, view, {"request": request})}
        for term in terms:
            if term.removeprefix("-") not in allowed:
                choices = ", ".join(sorted(allowed)) or "nothing"
                raise ValidationError(
                    {self.ordering_param: [f"Cannot order by {term[:40]!r}: order by {choices} (prefix - to reverse)."]}
                )
        return terms

    def filter_queryset(self, request, queryset, view):
        # A view may sort a term by something other than its column (`sort_terms`: the flags'
        # severity by rank); the terms allowed are still its ordering fields.
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        sort_terms = getattr(view, "sort_terms", None)
        return queryset.order_by(*(sort_terms(list(ordering), queryset) if sort_terms else ordering))

    def get_schema_operation_parameters(self, view) -> list[dict]:
        allowed = self._allowed(view)
        if not allowed:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, comma-separated; prefix a field with - to reverse.",
                "style": "form",
                "explode": False,
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [v for f in allowed for v in (f, f"-{f}")]},
                },
            }
        ]
