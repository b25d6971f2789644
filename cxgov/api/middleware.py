"""Request bodies sent with `Transfer-Encoding: chunked` are read, and limited, like any other.

Django reads a body only as far as `Content-Length` says; a chunked request has none, so
Django (and DRF after it) reads it as empty: a chunked POST of measurements would be
answered as if nothing had been sent. gunicorn decodes the chunks and says so
(`wsgi.input_terminated`, the input ends where the body ends), so this middleware reads
the decoded body, up to DATA_UPLOAD_MAX_MEMORY_SIZE, and hands it on with the length it
turned out to have: parsers, the 413 for oversized bodies and everything after work as
for any other request. A server that does not decode chunked input (Django's runserver)
gives no safe way to find the body's end: such a request is refused with a 400 that says
to send a Content-Length.
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import is_api


def _refuse(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


class ChunkedBodyMiddleware:
    """Put it first (after SecurityMiddleware): nothing may read the body before it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower() and not meta.get("CONTENT_LENGTH"):
            refused = self._read(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _read(self, request: HttpRequest) -> HttpResponse | None:
        if not request.META.get("wsgi.input_terminated"):
            return _refuse(
                request,
                400,
                "This server cannot read a chunked request body: send the body with a Content-Length header.",
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        stream = request.META["wsgi.input"]
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            return _refuse(request, 413, f"The request body is over the limit of {limit:,} bytes.")
        request.META["CONTENT_LENGTH"] = str(len(body))
        request._stream = LimitedStream(io.BytesIO(body), len(body))
        return None
