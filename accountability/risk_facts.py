"""The facts early-bail risk is scored from, gathered set-wise for all programs of a scan.

Each gatherer is a fixed number of queries whatever the organization's size; `gather`
returns them together for `accountability.risk` to score. The program's own fields
(status, horizon, start, first results date, champion and champion time) are read as on
`as_of` through `programs.selectors.programs_on`, the rule every as-of reader shares.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from programs.choices import ProgramStatus
from programs.dates import local_date, window_bounds
from programs.models import CommitmentAssessment, Organization, Person, Program, ProgramStatusChange, RoadmapStage
from programs.selectors import ProgramOnDate, programs_on

from .choices import FlagKind, SubjectType
from .detectors.common import iso
from .detectors.forums import scanned_sponsor_presence, session_cancellation
from .detectors.initiatives import stalled_initiatives
from .models import Flag
from .selectors import FORUM_WINDOW_DAYS

CHANGE_WINDOW_DAYS = 180  # champion_turnover and budget_cut look back this far


@dataclass
class Facts:
    """Everything the factors need, gathered for all programs of the scan at once."""

    as_of: dt.date
    programs: dict[int, ProgramOnDate]  # each program's status, horizon, start and champion on as_of
    first_activation: dict[int, dict]
    presence: dict
    cancellation: dict[int, tuple[int, int]]
    stalled: dict[int, tuple[int, int]]
    champion_changes: dict[int, list[dict]]
    budget_cuts: dict[int, list[dict]]
    negotiated: dict[int, list[int]]
    commitment: dict[int, list[dict]]
    breached: dict[int, dict] | None = None


# --- Gathering (each a fixed number of queries for all programs) ------------------------


def _first_activations(program_ids: list[int], end: dt.datetime) -> dict[int, dict]:
    rows = (
        ProgramStatusChange.objects.filter(program_id__in=program_ids, to_status=ProgramStatus.ACTIVE, at__lt=end)
        .order_by("program_id", "at", "id")
        .values("program_id", "at", "committed_horizon_months")
    )
    first: dict[int, dict] = {}
    for row in rows:
        first.setdefault(row["program_id"], row)
    return first


def _consecutive_changes(rows, group_key: str, start: dt.datetime):
    """Pairs (before, after) of consecutive history rows of one record, `after` inside the window."""
    previous = None
    for row in rows:
        if previous is not None and previous[group_key] == row[group_key] and row["history_date"] >= start:
            yield previous, row
        previous = row


def _history_facts(program_ids: list[int], start: dt.datetime, end: dt.datetime):
    """Champion changes and budget cuts in the window, from the simple-history tables (3 queries)."""
    program_rows = (
        Program.history.model.objects.filter(id__in=program_ids, history_date__lt=end)
        .order_by("id", "history_date", "history_id")
        .values("id", "history_date", "history_type", "customer_champion_id", "budget")
    )
    champion_changes: dict[int, list[dict]] = defaultdict(list)
    budget_cuts: dict[int, list[dict]] = defaultdict(list)
    people: set[int] = set()
    for before, after in _consecutive_changes(program_rows, "id", start):
        old, new = before["customer_champion_id"], after["customer_champion_id"]
        # Naming a first champion is an appointment, not turnover; losing or replacing one is.
        if old is not None and new != old:
            champion_changes[after["id"]].append({"on": iso(local_date(after["history_date"])), "from": old, "to": new})
            people.update(p for p in (old, new) if p)
        if _lowered(before["budget"], after["budget"]):
            budget_cuts[after["id"]].append(_cut("program", before, after))
    stage_rows = (
        RoadmapStage.history.model.objects.filter(program_id__in=program_ids, history_date__lt=end)
        .order_by("id", "history_date", "history_id")
        .values("id", "program_id", "sequence", "name", "history_date", "history_type", "budget")
    )
    for before, after in _consecutive_changes(stage_rows, "id", start):
        if after["history_type"] != "-" and _lowered(before["budget"], after["budget"]):
            budget_cuts[after["program_id"]].append(_cut("stage", before, after))
    names = dict(Person.objects.filter(pk__in=people).values_list("id", "name")) if people else {}
    for changes in champion_changes.values():
        for change in changes:
            change["from_name"] = names.get(change["from"])
            change["to_name"] = names.get(change["to"])
    return champion_changes, budget_cuts


def _lowered(old, new) -> bool:
    """A budget went down; clearing a budget that existed counts as cutting it to nothing."""
    return old is not None and (new is None or new < old)


def _cut(what: str, before: dict, after: dict) -> dict:
    cut = {
        "what": what,
        "on": iso(local_date(after["history_date"])),
        "from": str(before["budget"]),
        "to": None if after["budget"] is None else str(after["budget"]),
    }
    if what == "stage":
        cut.update(stage_id=after["id"], stage=after["name"], sequence=after["sequence"])
    return cut


def _negotiated_flags(program_ids: list[int], as_of: dt.date) -> dict[int, list[int]]:
    """The metrics with a `metric_negotiated_away` flag open on `as_of`, per program (one query)."""
    rows = (
        Flag.objects.open_on(as_of)
        .filter(program_id__in=program_ids, kind=FlagKind.METRIC_NEGOTIATED_AWAY, subject_type=SubjectType.METRIC)
        .values_list("program_id", "subject_id")
    )
    out: dict[int, list[int]] = defaultdict(list)
    for program_id, metric_id in rows:
        out[program_id].append(metric_id)
    return out


def _breached_flags(program_ids: list[int], as_of: dt.date) -> dict[int, dict]:
    """The `commitment_breached` flag open on `as_of` of each program, if any (one query)."""
    rows = (
        Flag.objects.open_on(as_of)
        .filter(program_id__in=program_ids, kind=FlagKind.COMMITMENT_BREACHED)
        .values("id", "program_id", "title", "first_detected_on")
    )
    return {row["program_id"]: row for row in rows}


def _last_two_commitments(program_ids: list[int], as_of: dt.date) -> dict[int, list[dict]]:
    rows = (
        CommitmentAssessment.objects.filter(program_id__in=program_ids, assessed_on__lte=as_of)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("program_id")], order_by=[F("assessed_on").desc(), F("id").desc()])
        )
        .filter(rank__lte=2)
        .order_by("program_id", "rank")
        .values("id", "program_id", "assessed_on", "score")
    )
    out: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        out[row["program_id"]].append(row)
    return out


def gather(organization: Organization, as_of: dt.date, programs: list[Program], *, sessions_when) -> Facts:
    """Every fact the factors need, for `programs` (loaded with `customer_champion`);
    `sessions_when(presence)` says whose sponsor sessions are read in full (only where a
    sponsor factor fires)."""
    program_ids = [p.pk for p in programs]
    start, end = window_bounds(as_of, CHANGE_WINDOW_DAYS)
    champion_changes, budget_cuts = _history_facts(program_ids, start, end)
    return Facts(
        as_of=as_of,
        programs=programs_on(programs=programs, as_of=as_of),
        first_activation=_first_activations(program_ids, end),
        presence=scanned_sponsor_presence(
            organization=organization, as_of=as_of, program_ids=program_ids, sessions_when=sessions_when
        ),
        cancellation=session_cancellation(
            organization=organization, as_of=as_of, days=FORUM_WINDOW_DAYS, program_ids=program_ids
        ),
        stalled=stalled_initiatives(organization=organization, as_of=as_of, program_ids=program_ids),
        champion_changes=champion_changes,
        budget_cuts=budget_cuts,
        negotiated=_negotiated_flags(program_ids, as_of),
        commitment=_last_two_commitments(program_ids, as_of),
        breached=_breached_flags(program_ids, as_of),
    )
