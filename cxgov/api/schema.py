"""OpenAPI generation: the API key scheme and the error responses of every operation.

Every operation documents the errors it can answer with, in DRF's shape:
400 (invalid input: `{"field": ["message"]}`), 401 (no or bad credentials), 403 (role),
404 (not in the caller's organizations), 409 (conflict with existing rows), 413 (body
over the limit) and 429 (API key over its rate).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


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
    "404": OpenApiResponse(ERROR, description="No such object in the caller's organizations."),
    "409": OpenApiResponse(ERROR, description="Conflicts with existing rows (still referenced, or a duplicate)."),
    "413": OpenApiResponse(ERROR, description="The request body is over the configured limit."),
    "429": OpenApiResponse(ERROR, description="The API key sent too many requests; retry after `Retry-After`."),
}


class AutoSchema(BaseAutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        has_lookup = "{" in self.path
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["400", "413", "409"]
        elif self.method == "DELETE":
            codes += ["409"]
        elif self.method == "GET" and (self._is_list_view() or getattr(self.view, "filterset_class", None)):
            codes += ["400"]
        if has_lookup:
            codes.append("404")
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
