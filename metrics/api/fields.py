"""API fields of metric values: the measurement rules of `metrics.measurements.validate_value`."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..measurements import validate_value


@extend_schema_field(
    {
        "oneOf": [{"type": "number"}, {"type": "string", "format": "decimal"}],
        "description": "A finite number below 1e15 (JSON number or numeric string); answered as a string.",
    }
)
class MeasurementValueField(serializers.Field):
    """A measured value: a finite number below 1e15, rounded to 4 decimal places.

    Integrations send floats with more digits than we keep; rounding (as the service
    does) is kinder than refusing 73.456789.
    """

    def to_internal_value(self, data):
        try:
            return validate_value(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["value"]) from None

    def to_representation(self, value):
        return format(value, "f") if value is not None else None
