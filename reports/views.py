"""Pages and files of the reports app: calendar feeds and the page that hands them out.

Feeds are fetched by calendar clients, which cannot sign in: the token in the address is
the credential. A wrong, revoked (regenerated) token, or the token of an inactive person,
answers 404 and says nothing more.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST, require_safe

from programs.access import role_in
from programs.choices import Role
from programs.models import Person
from programs.services import person_calendar_token_regenerate

from . import calendar


def _person_by_token(token: str) -> Person:
    person = Person.objects.select_related("organization", "user").filter(calendar_token=token, active=True).first()
    if person is None:
        raise Http404("No such calendar.")
    return person


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # A secret address: no shared cache may keep it.
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe  # calendar clients also send HEAD
def person_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The sessions of the forums the token's person chairs or belongs to."""
    person = _person_by_token(token)
    return _ics(calendar.person_feed(person, timezone.localdate()), "cxgov.ics")


@require_safe
def organization_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Every session of the organization, for a person of the program office (their token)."""
    person = _person_by_token(token)
    if person.user is None or role_in(person.user, person.organization_id) != Role.OFFICE:
        raise Http404("No such calendar.")
    return _ics(calendar.organization_feed(person.organization, timezone.localdate()), "cxgov-organization.ics")


def _feed_links(request: HttpRequest) -> list[dict]:
    people = Person.objects.filter(user=request.user, active=True).select_related("organization")
    links = []
    for person in people:
        base = request.build_absolute_uri(f"/calendar/{person.calendar_token}")
        links.append(
            {
                "person": person,
                "feed_url": f"{base}.ics",
                "organization_url": (
                    f"{base}/organization.ics" if role_in(request.user, person.organization_id) == Role.OFFICE else None
                ),
            }
        )
    return links


@login_required
@require_GET
def my_calendar(request: HttpRequest) -> HttpResponse:
    """Each of the user's people (one per organization) with the address of their feed."""
    return render(request, "reports/calendar.html", {"links": _feed_links(request), "as_of": timezone.localdate()})


@login_required
@require_POST
def regenerate_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    """A new secret for one of the user's own people: the old address stops working."""
    person = Person.objects.filter(pk=pk, user=request.user).first()
    if person is None:
        raise Http404("No such person.")
    person_calendar_token_regenerate(person=person)
    return redirect(f"{reverse('reports:my-calendar')}?regenerated={person.pk}")
