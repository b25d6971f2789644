"""A JSON parser that is strict about what it accepts and how much."""

import json
from decimal import Decimal

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from .exceptions import too_large_message


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _reject_constant(name: str):
    # Python's json accepts NaN, Infinity and -Infinity, which are not JSON.
    raise ValueError(f"{name} is not a valid JSON value: send a finite number.")


def body_limit() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class StrictJSONParser(JSONParser):
    """JSON only, NaN/Infinity refused, numbers with a point kept exact, bodies capped.

    DRF reads JSON through `request.body`, where Django refuses a declared Content-Length
    over DATA_UPLOAD_MAX_MEMORY_SIZE (the exception handler answers 413); the cap is
    applied again here to what was actually read, for bodies sent without a length.
    Decimals are parsed as `Decimal` so 0.1 stays 0.1 and 1e400 is refused by the field
    (it would be a float infinity otherwise).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = body_limit()
        request = (parser_context or {}).get("request")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(too_large_message(request))
        try:
            text = raw.decode((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
            return json.loads(text, parse_constant=_reject_constant, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from None
