"""Shared pieces of the detectors: scoping, day arithmetic, severities.

Day convention (used by every detector): "older than N days" means
`(as_of - date).days > N`; "past 2×N" means `> 2 * N`. A date on `as_of` itself is 0
days old. Date-times (session times, revision times) are reduced to their calendar date
in the project time zone (UTC) before counting, with `programs.dates` (the one copy of
day starts, ends and windows).
"""

import datetime as dt
from collections.abc import Collection

from django.db.models import Q

from programs.choices import SCANNED_STATUSES
from programs.models import Organization, Program

from ..choices import SEVERITY_RANK, EscalationLevel, Severity

_STEP_DOWN = {Severity.CRITICAL: Severity.HIGH, Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW}


def scope_q(organization: Organization, program_ids: Collection[int] | None, prefix: str = "program__") -> Q:
    """Rows of scanned (active/paused) programs of `organization`, optionally only `program_ids`.

    `prefix` is the lookup path from the queried model to Program ("" for Program itself).
    It is a join, never a separate query, so every detector keeps a fixed query count.
    """
    q = Q(**{f"{prefix}organization_id": organization.pk, f"{prefix}status__in": SCANNED_STATUSES})
    if program_ids is not None:
        q &= Q(**{f"{prefix}id__in": list(program_ids)})
    return q


def scanned_program_ids(organization: Organization, program_ids: Collection[int] | None) -> list[int]:
    """The ids of the programs a scan of `organization` covers (`scope_q`), in id order. One query."""
    scanned = Program.objects.filter(scope_q(organization, id_list(program_ids), prefix=""))
    return list(scanned.order_by("id").values_list("id", flat=True))


def metric_owner(row: dict) -> int | None:
    """Who must act on a metric finding: its owner, or the program's champion when the metric
    has no active owner (somebody must be named; metric_unowned flags the gap itself)."""
    if row["owner_id"] is not None and row["owner__active"]:
        return row["owner_id"]
    return row["program__customer_champion_id"]


def sponsor_owner(
    organization: Organization, sponsor_id: int | None, *, breach: bool = False
) -> tuple[int | None, int]:
    """Who owns a flag about a program's sponsor, and the escalation level it starts at (SPEC §3).

    The sponsor owns it (the CEO when no sponsor is named: somebody must act). It starts at
    level 3, the board contact, when the sponsor is the organization's CEO (nobody in the
    company stands above them) or for a breached commitment (`breach`); otherwise at 0.
    """
    owner_id = sponsor_id or organization.ceo_id
    at_board = breach or (sponsor_id is not None and sponsor_id == organization.ceo_id)
    return owner_id, int(EscalationLevel.BOARD if at_board else EscalationLevel.OWNER)


def id_list(program_ids: Collection[int] | None) -> list[int] | None:
    """Materialise `program_ids` once, so a generator serves every query of a detector."""
    return None if program_ids is None else list(program_ids)


def iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def days_between(earlier: dt.date, as_of: dt.date) -> int:
    return (as_of - earlier).days


def step_down(severity: str) -> str:
    """One severity step lower, never below low."""
    return _STEP_DOWN.get(severity, Severity.LOW)


def highest(severities: Collection[str]) -> str:
    return max(severities, key=lambda s: SEVERITY_RANK[s])


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
