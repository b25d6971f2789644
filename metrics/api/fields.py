"""API fields of metric values: finite numbers within the measurement column's range."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..services import validate_value

# A measured value keeps one whole digit of headroom below its column (see StrictDecimalField).
MEASUREMENT_MAX = Decimal("1e15")


def measurement_value(data) -> Decimal:
    """`metrics.services.validate_value` (finite, 4 places) within the API's range."""
    value = validate_value(data)
    if abs(value) >= MEASUREMENT_MAX:
        raise DjangoValidationError({"value": "The value is out of range (at most 15 digits before the point)."})
    return value


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "format": "decimal"}],
        "description": "A finite number below 1e15 (JSON number or numeric string); answered as a string.",
    }
)
class MeasurementValueField(serializers.Field):
    """A measured value: a finite number below 1e16, rounded to 4 decimal places.

    Integrations send floats with more digits than we keep; rounding (as the service
    does) is kinder than refusing 73.456789.
    """

    default_error_messages = {"invalid": "A finite number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal | str):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 100:
            self.fail("invalid")
        try:
            return measurement_value(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict.get("value", exc.messages)) from None
        except InvalidOperation:
            self.fail("invalid")

    def to_representation(self, value):
        return format(value, "f") if value is not None else None
