"""Serializer fields that hold the API's input rules.

- `ScopedPrimaryKeyRelatedField`: a reference accepts only ids of rows the caller may
  see (its organizations). An id of another organization is answered exactly like an id
  that does not exist: 400, with nothing revealed about the other tenant.
- `StrictDecimalField`: finite numbers only (the parser already
  refuses NaN/Infinity literals; strings "NaN" and "1e999" are refused here too).
- `IsoDateField` / `SaneDateTimeField`: dates as YYYY-MM-DD (date-times as ISO 8601), in
  1900-01-01..2999-12-31 (`programs.dates.sane_date`, the one copy of that rule).

Digits are ASCII `0-9` only, everywhere input is parsed: Python's `\\d` (in a str regex),
`int()`, `Decimal()`, `strptime` and Django's date parsers all take any Unicode digit, so
"２０２６-11-30" would be stored as 2026-11-30 and "٣" as 3. Those are refused (400).
"""

from decimal import Decimal

from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS, ManyRelatedField

from programs.dates import SaneDateValidator, is_iso_date_text, sane_date
from programs.numbers import is_number_text, parse_id
from programs.scoping import related_path


def _scoped(queryset, request):
    if request is None:
        return queryset.none()
    queryset = queryset.for_user(request.user)
    path = related_path(queryset.model)
    return queryset.select_related(path) if path else queryset


class ScopedManyRelatedField(ManyRelatedField):
    """A list of ids checked in one query instead of one per id. (A list reads its rows' ids
    for the whole page: `cxgov.api.values.attach_ids`.)"""

    def to_internal_value(self, data):
        if isinstance(data, str | dict) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if not self.allow_empty and not data:
            self.fail("empty")
        child = self.child_relation
        ids = []
        for item in data:
            # A JSON body's ids are JSON integers, as for a single reference (docs/api.md).
            pk = parse_id(item) if isinstance(item, int) else None
            if pk is None:
                if isinstance(item, int) and not isinstance(item, bool):
                    child.fail("does_not_exist", pk_value=item)
                child.fail("incorrect_type", data_type=type(item).__name__)
            ids.append(pk)
        found = {obj.pk: obj for obj in child.get_queryset().filter(pk__in=set(ids))}
        missing = [pk for pk in ids if pk not in found]
        if missing:
            child.fail("does_not_exist", pk_value=missing[0])
        return [found[pk] for pk in dict.fromkeys(ids)]


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference limited to the caller's organizations (another org's id → 400)."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return ScopedManyRelatedField(**list_kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if not hasattr(queryset, "for_user"):
            return queryset
        return _scoped(queryset, self.context.get("request"))

    def to_internal_value(self, data):
        pk = parse_id(data)
        if pk is None:
            if isinstance(data, int) and not isinstance(data, bool):
                self.fail("does_not_exist", pk_value=data)
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.get_queryset().get(pk=pk)
        except self.get_queryset().model.DoesNotExist:
            self.fail("does_not_exist", pk_value=pk)


class StrictDecimalField(serializers.DecimalField):
    """DRF's DecimalField, refusing booleans and any non-finite value.

    Values keep one whole digit of headroom below the column's size: SQLite stores
    decimals as doubles, and a value at the very top of the range reads back rounded up
    past `max_digits` (a 500 on every later read). The same bound applies on PostgreSQL
    so the API means the same on both.
    """

    def __init__(self, max_digits=None, decimal_places=None, **kwargs):
        if max_digits is not None and decimal_places is not None:
            whole = max_digits - decimal_places
            bound = Decimal(10) ** (whole - 1) - Decimal(10) ** -decimal_places
            if kwargs.get("max_value") is None:
                kwargs["max_value"] = bound
            if kwargs.get("min_value") is None:
                kwargs["min_value"] = -bound
        super().__init__(max_digits, decimal_places, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 100:
            self.fail("max_string_length")
        if isinstance(data, str) and not is_number_text(data):
            self.fail("invalid")  # "٣" or "１２" would be read as 3 and 12
        return super().to_internal_value(data)


def _with_sane_date(kwargs: dict) -> dict:
    """The one date rule (`programs.dates.sane_date`) on a field, once (model fields bring it too)."""
    validators = list(kwargs.get("validators", []))
    if not any(isinstance(v, SaneDateValidator) for v in validators):
        validators.append(sane_date)
    kwargs["validators"] = validators
    return kwargs


class IsoDateField(serializers.DateField):
    """YYYY-MM-DD only, between 1900-01-01 and 2999-12-31 (SPEC §2, "Dates are sane").

    Settings also restrict DATE_INPUT_FORMATS; this keeps the schema honest. The range is
    `programs.dates.sane_date`, the same validator the models and the admin apply.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(**_with_sane_date(kwargs))

    def to_internal_value(self, value):
        # strptime takes any Unicode digit ("２０２６-11-30") and one-digit months and days.
        if not isinstance(value, str) or not is_iso_date_text(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class SaneDateTimeField(serializers.DateTimeField):
    """ISO 8601 date-times whose day lies between 1900-01-01 and 2999-12-31."""

    def __init__(self, **kwargs):
        super().__init__(**_with_sane_date(kwargs))

    def to_internal_value(self, value):
        # Django's parse_datetime falls back to a `\d` regex: any Unicode digit would do.
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        return super().to_internal_value(value)


# --- JSON types ----------------------------------------------------------------------------


def _expected_type(field: serializers.Field) -> tuple[tuple[type, ...], str] | None:
    """The JSON types a writable field accepts, and the message for anything else.

    DRF coerces: a CharField takes 12 and stores "12", a BooleanField takes 0, "no" or
    "off", an IntegerField takes "12" and 12.0. The schema says string, boolean, integer;
    SPEC §5 says a wrong type is a 400. Decimals take a JSON number or a numeric string
    (both documented); dates and date-times a string.
    """
    if isinstance(field, serializers.BooleanField):
        return (bool,), "Must be true or false."
    if isinstance(
        field, ManyRelatedField | serializers.ListField | serializers.ListSerializer | serializers.MultipleChoiceField
    ):
        return None  # DRF refuses anything but a list, with its own message
    if isinstance(field, serializers.PrimaryKeyRelatedField | serializers.IntegerField):
        return (int,), "A whole number (JSON integer) is required."
    if isinstance(field, serializers.DecimalField):
        return (int, Decimal, str), "A number (JSON number or numeric string) is required."
    if isinstance(field, serializers.DateField | serializers.DateTimeField):
        return (str,), "A date as YYYY-MM-DD (date-times: ISO 8601) is required."
    if isinstance(field, serializers.ChoiceField | serializers.CharField):
        return (str,), "Not a valid string."
    if isinstance(field, serializers.Serializer):
        return (dict,), "Expected an object."
    return None


def json_type_errors(fields, data) -> dict[str, list[str]]:
    """{field: [message]} for each value in `data` whose JSON type its field does not take.

    `null` is left to the field (its allow_null says whether it may be null).
    """
    errors: dict[str, list[str]] = {}
    if not hasattr(data, "items"):
        return errors
    for name, field in fields.items():
        if field.read_only or name not in data or data[name] is None:
            continue
        expected = _expected_type(field)
        if expected is None:
            continue
        types, message = expected
        value = data[name]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            errors[name] = [message]
        elif isinstance(value, str) and len(value) > (getattr(field, "max_length", None) or len(value)):
            # DRF measures a text after trimming its whitespace; the schema's maxLength is what is sent.
            errors[name] = [f"Ensure this field has no more than {field.max_length} characters."]
    return errors
