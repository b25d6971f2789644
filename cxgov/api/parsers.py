"""Parsers strict about what they accept and how much: JSON, and CSV for bulk endpoints."""

import csv
import io
import json
from decimal import Decimal

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, JSONParser

from .exceptions import too_large_message
from .text import CSVTable, decode_text


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


class CSVParser(BaseParser):
    """`text/csv`, capped like JSON (413 before parsing), each record with the line it starts on.

    What the columns mean is the endpoint's business (`metrics.api.bulk` for measurements).
    """

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = body_limit()
        request = (parser_context or {}).get("request")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(too_large_message(request))
        reader = csv.reader(io.StringIO(decode_text(raw), newline=""))
        records: list[tuple[int, list[str]]] = []
        header: list[str] | None = None
        try:
            line = 1
            for cells in reader:
                if header is None:
                    header = cells
                elif any(cell.strip() for cell in cells):  # blank lines are not records
                    records.append((line, cells))
                line = reader.line_num + 1
        except csv.Error as exc:
            raise exceptions.ParseError(f"CSV parse error on line {reader.line_num}: {exc}") from None
        if header is None:
            raise exceptions.ParseError("The file is empty: send a header line and one line per row.")
        return CSVTable([name.strip().lower() for name in header], records)
