"""Board packs over HTTP: the dashboard's PDF links and `GET /api/v1/programs/{id}/board-pack/`.

Thin: parse the date, scope to the caller's organizations (another organization's program
answers 404, as everywhere), build the pack (`data`), render it (`render`).
"""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from accountability.api.programs import AS_OF_PARAMETER, AsOfQuerySerializer
from programs.access import organization_ids
from programs.dates import AS_OF_MAX, AS_OF_MIN
from programs.models import Organization, Program
from programs.numbers import is_digits

from . import data, render


def pdf_response(pack: data.BoardPack) -> HttpResponse:
    response = HttpResponse(render.render_pdf(pack), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{render.filename(pack)}"'
    return response


def _as_of(request: HttpRequest) -> dt.date | None:
    """`?as_of=YYYY-MM-DD` (default today); None when malformed or out of range."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return timezone.localdate()
    try:
        day = dt.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        return None
    return day if day and AS_OF_MIN <= day <= AS_OF_MAX else None


BAD_DATE = f"as_of must be a date as YYYY-MM-DD between {AS_OF_MIN} and {AS_OF_MAX}."


@login_required
@require_GET
def program_pack(request: HttpRequest, pk: int) -> HttpResponse:
    as_of = _as_of(request)
    if as_of is None:
        return HttpResponseBadRequest(BAD_DATE)
    try:
        pack = data.program_board_pack(organization_ids=organization_ids(request.user), program_id=pk, as_of=as_of)
    except Program.DoesNotExist:
        raise Http404("No such program.")
    return pdf_response(pack)


@login_required
@require_GET
def portfolio_pack(request: HttpRequest) -> HttpResponse:
    """The portfolio of one of the caller's organizations: `?organization=<id>`, else the
    first of them by name."""
    as_of = _as_of(request)
    if as_of is None:
        return HttpResponseBadRequest(BAD_DATE)
    ids = organization_ids(request.user)
    organizations = Organization.objects.order_by("name")
    if ids is not None:
        organizations = organizations.filter(pk__in=ids)
    wanted = request.GET.get("organization", "").strip()
    if wanted:
        if not is_digits(wanted):
            return HttpResponseBadRequest("organization must be an organization id.")
        organizations = organizations.filter(pk=int(wanted))
    organization = organizations.first()
    if organization is None:
        raise Http404("No such organization.")
    return pdf_response(data.portfolio_board_pack(organization=organization, as_of=as_of))


class PdfRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class ProgramBoardPackView(APIView):
    """The program's board pack as a PDF."""

    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        operation_id="programs_board_pack",
        summary="The program's board pack (PDF) as of a date",
        parameters=[AS_OF_PARAMETER],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The board pack as it stood at the end of `as_of`: status and month of the horizon, "
                "risk with its trend and factors, what changed since the previous month, open high and critical "
                "flags with owners, the metric cascade with charts, forum adherence, sponsor presence and the "
                "latest commitment assessment. The organization's name, the date and page numbers on every page.",
            )
        },
        tags=["programs"],
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        as_of = AsOfQuerySerializer.from_request(request)
        try:
            pack = data.program_board_pack(organization_ids=organization_ids(request.user), program_id=pk, as_of=as_of)
        except Program.DoesNotExist:
            raise Http404("No such program.")
        return pdf_response(pack)

    def handle_exception(self, exc):
        # Errors are JSON, as everywhere under /api/, even when the client asked for a PDF.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
