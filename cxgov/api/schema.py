"""OpenAPI generation: the API key scheme, the error responses of every operation, and the
schema of the API's own fields (sane dates, decimals sent as numbers or strings).

Every operation documents every answer it can give (SPEC §5), in DRF's shape:
- 400 invalid input or a refused rule (`{"field": ["message"]}` or `{"detail": ...}`): any
  operation, since query parameters (filters, ordering, pages, `as_of`) and malformed
  requests are checked everywhere;
- 401 no or bad credentials; 403 the role (or CSRF for a browser session); 404 no such
  object, or `?format=` asking for a format the API does not give; 406 an `Accept` header
  the API cannot answer (it answers JSON); 413 a body over the limit (chunked included);
  414 a URL longer than the server takes (gunicorn's request line, answered before the
  API and not in JSON); 429 an API key over its rate: any operation;
- 409 a conflict with existing rows (still referenced, a duplicate): writes and deletes;
- the success codes of each operation (200, 201, 202 for a queued scan, 204 for a delete).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from programs.numbers import MAX_ID


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


ERROR = ErrorSerializer
VALIDATION_ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description='Invalid input, in DRF\'s shape: `{"field": ["message"]}` or `{"detail": "message"}`. '
    "Nothing was written.",
)

_ERRORS = {
    "401": OpenApiResponse(ERROR, description="No credentials, an unknown API key or a revoked one."),
    "403": OpenApiResponse(ERROR, description="The caller's role does not allow this action."),
    "404": OpenApiResponse(ERROR, description="No such object in the caller's organizations (or no such format)."),
    "406": OpenApiResponse(ERROR, description="The `Accept` header asks for a type the API does not give (JSON)."),
    "409": OpenApiResponse(ERROR, description="Conflicts with existing rows (still referenced, or a duplicate)."),
    "413": OpenApiResponse(ERROR, description="The request body is over the configured limit."),
    "414": OpenApiResponse(
        description="The URL with its query is longer than the server takes in a request line (gunicorn: "
        "4,094 bytes). Answered by the server before the API, as plain text."
    ),
    "429": OpenApiResponse(ERROR, description="The API key sent too many requests; retry after `Retry-After`."),
}


#: The list answers of `?format=csv` and `?format=xlsx` (cxgov/api/spreadsheets.py): a file.
SPREADSHEET_BODIES = {
    "text/csv": {"type": "string", "description": "The list's rows, every page, as CSV (UTF-8, BOM, header)."},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "type": "string",
        "format": "binary",
        "description": "The list's rows, every page, as an XLSX workbook of one sheet.",
    },
}


class AutoSchema(BaseAutoSchema):
    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        # A list's success is a file in the spreadsheet formats; its errors are JSON only.
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content") or {}
        for media_type, schema in SPREADSHEET_BODIES.items():
            if media_type not in content:
                continue
            if str(status_code).startswith("2"):
                content[media_type] = {"schema": dict(schema)}
            else:
                del content[media_type]
        return response

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "406", "413", "414", "429"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            response = VALIDATION_ERROR if code == "400" else _ERRORS[code]
            responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "programs.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <api key>`; create a key with `manage.py create_api_key`.",
        }


#: Years 1900 to 2999 (SPEC §2, "Dates are sane"), for the schema of every date a request sends.
SANE_DATE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}"


class SaneDateFieldExtension(OpenApiSerializerFieldExtension):
    """Dates and date-times a request sends: their years in the schema (1900 to 2999)."""

    target_class = "cxgov.api.fields.IsoDateField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = SANE_DATE_PATTERN + "$"
        return schema


class SaneDateTimeFieldExtension(SaneDateFieldExtension):
    target_class = "cxgov.api.fields.SaneDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["pattern"] = SANE_DATE_PATTERN + "T"
        return schema


class StrictDecimalFieldExtension(OpenApiSerializerFieldExtension):
    """A decimal is sent as a JSON number or a numeric string, and answered as a string.

    The string's pattern allows one whole digit less than the column (the headroom
    `StrictDecimalField` keeps); the number's range is the same bound.
    """

    target_class = "cxgov.api.fields.StrictDecimalField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if direction != "request" or field.max_digits is None or field.decimal_places is None:
            return schema
        whole = field.max_digits - field.decimal_places - 1
        text = {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{field.decimal_places}}})?$",
        }
        number = {"type": "number"}
        if field.max_value is not None:
            number["maximum"] = float(field.max_value)
        if field.min_value is not None:
            number["minimum"] = float(field.min_value)
        out = {"oneOf": [number, text]}
        if schema.get("nullable"):
            out["nullable"] = True
        return out


class ScopedPrimaryKeyFieldExtension(OpenApiSerializerFieldExtension):
    """A reference is an id: a whole number from 1 (`fields.parse_id`)."""

    target_class = "cxgov.api.fields.ScopedPrimaryKeyRelatedField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request" and schema.get("type") == "integer":
            schema.update(minimum=1, maximum=MAX_ID)
        return schema
