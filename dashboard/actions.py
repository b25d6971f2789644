"""Acting on a flag from the dashboard (SPEC §5, "Executives act where they read").

One POST view per move, each a thin wrapper over `accountability.flag_actions` (the same
services the API calls), with the API's roles: the office and executives acknowledge,
comment and hand a flag over; only the office dismisses. CSRF-protected like every form.
A flag of another organization is 404, a role that may not act 403; a refused move (a
blank comment, someone outside the organization, a flag already closed) answers 400 with
the flag page and the reason, and changes nothing. A move that succeeds redirects back
(to the page it came from when that is one of ours) with a message naming what was done.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accountability.flag_actions import flag_acknowledge, flag_assign, flag_comment, flag_dismiss
from accountability.models import Flag
from programs.access import organization_ids, role_in
from programs.choices import Role
from programs.models import Person
from programs.numbers import is_digits

ACTING_ROLES = {
    "acknowledge": {Role.OFFICE, Role.EXECUTIVE},
    "comment": {Role.OFFICE, Role.EXECUTIVE},
    "assign": {Role.OFFICE, Role.EXECUTIVE},
    "dismiss": {Role.OFFICE},
}


def flag_permissions(user, organization_id: int) -> dict[str, bool]:
    """Which moves the caller may make on a flag of that organization (the forms shown)."""
    role = role_in(user, organization_id)
    return {verb: role in roles for verb, roles in ACTING_ROLES.items()}


def _flag(request: HttpRequest, pk: int, verb: str) -> Flag:
    ids = organization_ids(request.user)
    flags = Flag.objects.select_related("owner", "organization", "program")
    if ids is not None:
        flags = flags.for_organizations(ids)
    flag = flags.filter(pk=pk).first()
    if flag is None:
        raise Http404("No such flag.")
    if not flag_permissions(request.user, flag.organization_id)[verb]:
        raise PermissionDenied(f"Only {' or '.join(sorted(ACTING_ROLES[verb]))} members may do this.")
    return flag


def back_to(request: HttpRequest, flag: Flag) -> HttpResponseRedirect:
    """Where the form came from (`next`, one of our paths), else the flag's page."""
    target = request.POST.get("next", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("dashboard:flag", args=[flag.pk])
    return HttpResponseRedirect(target)


def acting_on(request: HttpRequest, pk: int, verb: str) -> Flag:
    """The flag a POST acts on: 404 for an unknown move or another organization's flag,
    403 for a role that may not make this move."""
    if verb not in ACTING_ROLES:
        raise Http404("No such action.")
    return _flag(request, pk, verb)


def perform(request: HttpRequest, flag: Flag, verb: str) -> str:
    """Make the move through its service; what was done, in words. Raises ValidationError."""
    if verb == "acknowledge":
        flag_acknowledge(flag=flag, actor=request.user)
        return "You acknowledged this flag."
    if verb == "comment":
        flag_comment(flag=flag, actor=request.user, text=request.POST.get("text", ""))
        return "Your comment is on the flag."
    if verb == "assign":
        owner = _person(flag, request.POST.get("owner", ""))
        flag_assign(flag=flag, owner=owner, actor=request.user, note=request.POST.get("note", ""))
        return f"You handed this flag to {owner.name}; they are told by email."
    flag_dismiss(flag=flag, actor=request.user, reason=request.POST.get("reason", ""))
    return "You dismissed this flag."


def _person(flag: Flag, raw: str) -> Person:
    raw = raw.strip()
    person = (
        Person.objects.filter(pk=int(raw), organization_id=flag.organization_id).first()
        if is_digits(raw) and len(raw) < 12
        else None
    )
    if person is None:
        raise ValidationError({"owner": "Choose a person of the flag's organization."})
    return person
