"""Dashboard pages: thin views over the selectors, rendered on the server.

Scoping: every page reads through `organization_ids(request.user)`; a program or flag of
another organization answers 404, exactly like the API.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accountability.choices import SubjectType
from accountability.models import Flag, ForumSession
from accountability.my_items import my_items, people_of
from accountability.session_record import may_record, session_record
from programs.access import organization_ids, role_in
from programs.choices import Role
from programs.dates import AS_OF_MAX, AS_OF_MIN
from programs.models import Organization, Program

from .actions import acting_on, back_to, flag_permissions, perform
from .meeting import meeting_page, meeting_session, read_form
from .program import flag_detail, program_detail
from .selectors import active_people, flag_thread, portfolio_summary

# Where a flag's subject is shown on the program page.
SUBJECT_ANCHORS = {
    SubjectType.PROGRAM: "overview",
    SubjectType.STAGE: "stage-{}",
    SubjectType.INITIATIVE: "initiative-{}",
    SubjectType.METRIC: "metric-{}",
    SubjectType.FORUM: "forum-{}",
}


def parse_as_of(request: HttpRequest) -> tuple[dt.date, str | None]:
    """`?as_of=YYYY-MM-DD`, else today; a malformed date falls back to today with a notice."""
    raw = request.GET.get("as_of", "").strip()
    today = timezone.localdate()
    if not raw:
        return today, None
    try:
        day = dt.datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return today, f"“{raw[:40]}” is not a date in the form YYYY-MM-DD; showing today instead."
    if not AS_OF_MIN <= day <= AS_OF_MAX:
        return today, f"Dates go from {AS_OF_MIN} to {AS_OF_MAX}; showing today instead."
    return day, None


def _context(request: HttpRequest, as_of: dt.date, notice: str | None, **extra) -> dict:
    ids = organization_ids(request.user)
    organizations = Organization.objects.all() if ids is None else Organization.objects.filter(pk__in=ids)
    names = [o.name for o in organizations.only("name")]
    return {
        "as_of": as_of,
        "is_today": as_of == timezone.localdate(),
        "as_of_query": "" if as_of == timezone.localdate() else f"?as_of={as_of.isoformat()}",
        "notice": notice,
        "organizations": names,
        "show_org": len(names) > 1,
        **extra,
    }


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    as_of, notice = parse_as_of(request)
    summary = portfolio_summary(organization_ids=organization_ids(request.user), as_of=as_of)
    return render(request, "dashboard/portfolio.html", _context(request, as_of, notice, summary=summary))


@login_required
def program(request: HttpRequest, pk: int) -> HttpResponse:
    as_of, notice = parse_as_of(request)
    # Everything but as_of narrows the flags section, with the API's FlagFilterSet parameters.
    flag_filters = request.GET.copy()
    flag_filters.pop("as_of", None)
    try:
        detail = program_detail(
            organization_ids=organization_ids(request.user), program_id=pk, as_of=as_of, flag_filters=flag_filters
        )
    except Program.DoesNotExist:
        raise Http404("No such program.")
    as_of_param = "" if as_of == timezone.localdate() else f"as_of={as_of.isoformat()}&"
    # Acting is on the flags as they are now: the forms show on today's page only.
    can = flag_permissions(request.user, detail.program.organization_id) if as_of == timezone.localdate() else {}
    people = active_people(detail.program.organization_id) if can.get("assign") and detail.flags else []
    return render(
        request,
        "dashboard/program.html",
        _context(
            request,
            as_of,
            notice,
            detail=detail,
            card=detail.card,
            severe_only_query=f"?{as_of_param}severity=critical&severity=high",
            can=can,
            people=people,
            here=request.get_full_path(),
            # Meeting mode links: every session for the office and integrations, the chair's own.
            record_all=role_in(request.user, detail.program.organization_id) in (Role.OFFICE, Role.INTEGRATION),
        ),
    )


@login_required
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    return flag_page(request, pk)


def flag_page(request: HttpRequest, pk: int, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    """The flag with its evidence, its thread of comments and hand-overs, and the forms of
    the moves the caller may make (`errors`: why the last one was refused)."""
    as_of, notice = parse_as_of(request)
    try:
        flag, evidence = flag_detail(organization_ids=organization_ids(request.user), flag_id=pk, as_of=as_of)
    except Flag.DoesNotExist:
        raise Http404("No such flag.")
    anchor = SUBJECT_ANCHORS.get(flag.subject_type)
    can = flag_permissions(request.user, flag.organization_id)
    comments, people = flag_thread(flag, with_people=can["assign"])
    return render(
        request,
        "dashboard/flag.html",
        _context(
            request,
            as_of,
            notice,
            flag=flag,
            evidence=evidence,
            subject_anchor=anchor.format(flag.subject_id) if anchor else None,
            can=can,
            comments=comments,
            people=people,
            errors=errors or [],
            posted=request.POST if errors else {},
        ),
        status=status,
    )


@login_required
@require_POST
def flag_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """Acknowledge, comment, hand over or dismiss (dashboard.actions); 400 with the reason."""
    flag = acting_on(request, pk, verb)
    try:
        done = perform(request, flag, verb)
    except ValidationError as error:
        return flag_page(request, flag.pk, errors=error.messages, status=400)
    messages.success(request, done)
    return back_to(request, flag)


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """My items: what the signed-in person owns or must act on, as of the page's date."""
    as_of, notice = parse_as_of(request)
    items = my_items(people=people_of(request.user), as_of=as_of)
    return render(request, "dashboard/my_items.html", _context(request, as_of, notice, items=items))


@login_required
def session_record_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Meeting mode: one page, one submit, one transaction (accountability.session_record).
    The chair, the office and integration users (403 for anyone else, 404 for a session of
    another organization); a refused submit shows the page again, with the reasons (400)."""
    try:
        session = meeting_session(pk, organization_ids(request.user))
    except ForumSession.DoesNotExist:
        raise Http404("No such session.")
    if not may_record(request.user, session):
        raise PermissionDenied("Only the forum's chair, the program office and integration users record sessions.")
    errors: list[str] = []
    if request.method == "POST":
        try:
            session_record(session=session, record=read_form(session, request.POST), actor=request.user)
        except ValidationError as error:
            errors = _messages_of(error)
        else:
            messages.success(request, f"The session of {session.scheduled_for:%d %b %Y} is recorded.")
            program_url = reverse("dashboard:program", args=[session.forum.program_id])
            return HttpResponseRedirect(f"{program_url}#forum-{session.forum_id}")
    page = meeting_page(session, request.POST if errors else None)
    as_of = timezone.localdate()
    context = _context(request, as_of, None, page=page, session=session, errors=errors)
    return render(request, "dashboard/meeting.html", context, status=400 if errors else 200)


def _messages_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{key}: {message}" if key != "__all__" else message
            for key, ms in error.message_dict.items()
            for message in ms
        ]
    return list(error.messages)
