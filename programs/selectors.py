"""Programs and roadmap stages as they stood on a date (SPEC §2, Time and evidence).

- Status on D: from the status changes (`ProgramStatusChange`, the evidence): the
  `to_status` of the last change made by the end of D; before the first change, that
  change's `from_status`; with no change at all, the current status.
- Horizon, budget, champion, champion time, start, earliest review and other plain fields on D: from the
  simple-history records (`Program.history`, `RoadmapStage.history`): the last record
  saved by the end of D. When nothing was saved after D, the current row is the answer
  (it is what the last record says, and it also covers rows changed without a history
  record); a record first saved after D shows its first recorded values.

Rows are not hidden because they were created after D (`created_at` records when a row
was entered, not when the thing began); a stage deleted since D is not shown. Every
function is read-only, safe to re-run, with a fixed number of queries whatever the number
of programs, stages or history records.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count

from .choices import StageStatus
from .dates import end_of
from .models import Program, ProgramStatusChange, RoadmapStage

# Program fields read back from the history, and the champion's facts joined to them.
PROGRAM_FIELDS = (
    "committed_horizon_months",
    "budget",
    "customer_champion_id",
    "champion_time_pct",
    "started_on",
    "first_results_due_on",
    "stall_after_days",
    "earliest_review_on",
)
CHAMPION_FIELDS = (
    "customer_champion__name",
    "customer_champion__title",
    "customer_champion__is_officer",
    "customer_champion__active",
)
STAGE_FIELDS = ("sequence", "name", "expectations", "starts_on", "ends_on", "budget", "status")


@dataclass
class ProgramOnDate:
    """The facts of one program that change over time, as at the end of `as_of`."""

    id: int
    as_of: dt.date
    status: str
    committed_horizon_months: int
    budget: Decimal | None
    customer_champion_id: int | None
    champion_time_pct: int
    started_on: dt.date | None
    first_results_due_on: dt.date | None
    stall_after_days: int
    champion_name: str | None = None
    champion_title: str | None = None
    champion_is_officer: bool | None = None
    champion_active: bool | None = None
    earliest_review_on: dt.date | None = None
    # Fields whose value today differs from this one (changed after as_of).
    changed_since: tuple[str, ...] = ()

    def month_of_horizon(self) -> int | None:
        """1-based month of the committed horizon on `as_of` (Program's own rule, on this start date)."""
        return Program.month_of_horizon(self, self.as_of)


@dataclass
class StageOnDate:
    id: int
    program_id: int
    sequence: int
    name: str
    expectations: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    budget: Decimal | None
    status: str
    initiative_count: int = 0
    changed_since: tuple[str, ...] = ()

    def get_status_display(self) -> str:
        return StageStatus(self.status).label


def record_in_force(current: dict, records: list[dict], end: dt.datetime) -> dict:
    """The history record in force at `end` (see the module docstring), or `current`.

    `records` are one row's simple-history records, oldest first, each with `history_date`.
    The one rule for "a program (or stage) field on D", also read by `commitment_breached`."""
    if not records or records[-1]["history_date"] < end:
        return current
    before = [r for r in records if r["history_date"] < end]
    return before[-1] if before else records[0]


def _changed(current: dict, then: dict, fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(f for f in fields if current[f] != then[f])


def program_statuses_on(*, program_ids: Collection[int], as_of: dt.date, current: dict[int, str]) -> dict[int, str]:
    """Each program's status at the end of `as_of`, from its status changes; `current`
    (id → today's status) answers for programs with no change after `as_of` (never changed,
    or a status set without a recorded change, as bulk-loaded data has). One query."""
    end = end_of(as_of)
    changes: dict[int, list[dict]] = defaultdict(list)
    for row in (
        ProgramStatusChange.objects.filter(program_id__in=list(program_ids))
        .order_by("program_id", "at", "id")
        .values("program_id", "at", "from_status", "to_status")
    ):
        changes[row["program_id"]].append(row)
    out = {}
    for pid in program_ids:
        rows = changes.get(pid, [])
        after = [r for r in rows if r["at"] >= end]
        if not after:
            out[pid] = current[pid]
            continue
        before = [r for r in rows if r["at"] < end]
        out[pid] = before[-1]["to_status"] if before else after[0]["from_status"]
    return out


def _current(program: Program) -> dict:
    """An already-loaded program (with `customer_champion` selected) as the row `programs_on` reads."""
    champion = program.customer_champion
    return {
        "id": program.pk,
        "status": program.status,
        **{f: getattr(program, f) for f in PROGRAM_FIELDS},
        "customer_champion__name": champion.name if champion else None,
        "customer_champion__title": champion.title if champion else None,
        "customer_champion__is_officer": champion.is_officer if champion else None,
        "customer_champion__active": champion.active if champion else None,
    }


def programs_on(
    *, as_of: dt.date, program_ids: Collection[int] | None = None, programs: Iterable[Program] | None = None
) -> dict[int, ProgramOnDate]:
    """Status, horizon, budget, champion (with name, title, officer, active), champion time, start,
    first results date and stall limit of each program at the end of `as_of`.

    Give `program_ids`, or `programs` already loaded (with `customer_champion` selected) to
    save their query. Three queries (programs, status changes, history), two with
    `programs`. Read-only.
    """
    if programs is not None:
        current = {p.pk: _current(p) for p in programs}
    else:
        columns = ("id", "status", *PROGRAM_FIELDS, *CHAMPION_FIELDS)
        current = {row["id"]: row for row in Program.objects.filter(id__in=list(program_ids or [])).values(*columns)}
    if not current:
        return {}
    statuses = program_statuses_on(
        program_ids=list(current), as_of=as_of, current={pid: row["status"] for pid, row in current.items()}
    )
    history: dict[int, list[dict]] = defaultdict(list)
    for row in (
        Program.history.model.objects.filter(id__in=list(current))
        .order_by("id", "history_date", "history_id")
        .values("id", "history_date", *PROGRAM_FIELDS, *CHAMPION_FIELDS)
    ):
        history[row["id"]].append(row)
    end = end_of(as_of)
    out = {}
    for pid, now in current.items():
        then = record_in_force(now, history.get(pid, []), end)
        out[pid] = ProgramOnDate(
            id=pid,
            as_of=as_of,
            status=statuses[pid],
            **{f: then[f] for f in PROGRAM_FIELDS},
            champion_name=then["customer_champion__name"],
            champion_title=then["customer_champion__title"],
            champion_is_officer=then["customer_champion__is_officer"],
            champion_active=then["customer_champion__active"],
            changed_since=_changed(now, then, PROGRAM_FIELDS) + (("status",) if statuses[pid] != now["status"] else ()),
        )
    return out


def stages_on(*, program_ids: Collection[int], as_of: dt.date) -> list[StageOnDate]:
    """The roadmap stages of the programs with name, dates, budget and status at the end of
    `as_of` (from their history), ordered by program and sequence, each with its number of
    initiatives (today's). Two queries. Read-only."""
    program_ids = list(program_ids)
    current = list(
        RoadmapStage.objects.filter(program_id__in=program_ids)
        .annotate(initiative_count=Count("initiatives"))
        .values("id", "program_id", "initiative_count", *STAGE_FIELDS)
    )
    history: dict[int, list[dict]] = defaultdict(list)
    for row in (
        RoadmapStage.history.model.objects.filter(id__in=[s["id"] for s in current])
        .exclude(history_type="-")
        .order_by("id", "history_date", "history_id")
        .values("id", "history_date", *STAGE_FIELDS)
    ):
        history[row["id"]].append(row)
    end = end_of(as_of)
    stages = []
    for now in current:
        then = record_in_force(now, history.get(now["id"], []), end)
        stages.append(
            StageOnDate(
                id=now["id"],
                program_id=now["program_id"],
                initiative_count=now["initiative_count"],
                changed_since=_changed(now, then, STAGE_FIELDS),
                **{f: then[f] for f in STAGE_FIELDS},
            )
        )
    stages.sort(key=lambda s: (s.program_id, s.sequence, s.id))
    return stages
