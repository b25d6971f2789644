"""One exception handler for the API: every refusal is a 4xx with a readable message.

Services raise Django's ValidationError (a rule refused the write); the database raises
IntegrityError (a constraint caught a race) or ProtectedError (a row still referenced).
None of these may become a 500.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def django_validation_detail(exc: DjangoValidationError) -> dict | list:
    """A Django ValidationError in DRF's shape: {"field": ["message"]} or {"detail": ...}."""
    if hasattr(exc, "error_dict"):
        out = {}
        for field, messages in exc.message_dict.items():
            key = "non_field_errors" if field == "__all__" else field
            out[key] = list(messages)
        return out
    messages = list(exc.messages)
    return {"detail": messages[0] if len(messages) == 1 else " ".join(messages)}


def too_large_message(request) -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
    except ValueError:
        declared = 0
    if declared > limit:
        return f"The request body is {declared:,} bytes; the limit is {limit:,} bytes."
    return f"The request body is over the limit of {limit:,} bytes."


def _protected_message(exc: ProtectedError | RestrictedError) -> str:
    objs = list(getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or [])
    kinds = sorted({str(obj._meta.verbose_name_plural) for obj in objs})
    what = ", ".join(kinds) if kinds else "other records"
    return f"This record is still referenced by {what}; remove those references first (or retire/deactivate it)."


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_detail(exc))
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE when DRF reads request.body.
        return Response({"detail": too_large_message(context.get("request"))}, status=413)
    elif isinstance(exc, ProtectedError | RestrictedError):
        return Response({"detail": _protected_message(exc)}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IntegrityError):
        # A constraint the serializer could not see (a concurrent write): the row conflicts.
        return Response(
            {"detail": "The change conflicts with existing data (a uniqueness or integrity rule); nothing was saved."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
