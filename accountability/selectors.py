"""Accountability reads with rules, as they stood on a date.

The one copy of each: sponsor presence, forum adherence (and cancellations), the flags
open on a date and their counts, risk on a date, and in-flight initiatives with their
stall. Detectors, risk, the dashboard and the API call these; none keeps its own copy.

Windows end on `as_of` and count back from it (`programs.dates.window_bounds`: a window
of N days holds as_of and the N - 1 days before). Every function is read-only, safe to
call any number of times, and runs a fixed number of queries whatever the number of
programs, forums, sessions or flags.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber

from cxgov.scan_inputs import shared_per_scan
from programs.choices import InitiativeStatus
from programs.dates import local_date, window_bounds
from programs.models import Initiative, ProgressUpdate

from .choices import RiskLevel, SessionStatus, Severity
from .models import Flag, Forum, ForumSession, RiskAssessment
from .models.flags import severity_rank

# The rule's window (sponsor_disengaged, sponsor_delegating, risk's sponsor_absent); the
# dashboard shows the same figure, so a card never contradicts a flag.
SPONSOR_WINDOW_DAYS = 180
# Forum adherence on the dashboard (SPEC §5) and risk's forums_cancelled factor.
FORUM_WINDOW_DAYS = 90
CANCELLED_STATUSES = (SessionStatus.CANCELLED, SessionStatus.POSTPONED)
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
IN_FLIGHT = (InitiativeStatus.IN_PROGRESS, InitiativeStatus.BLOCKED)


def ratio_pct(part: int, whole: int) -> int | None:
    """Whole-number percentage, None when there is nothing to divide by."""
    return None if whole == 0 else round(100 * part / whole)


# --- Sponsor presence --------------------------------------------------------------------


@dataclass(frozen=True)
class SponsorPresence:
    """Held sessions of the sponsor's forums in the window, how many the sponsor attended in
    person, and to how many the sponsor sent a delegate instead."""

    held: int
    present: int
    window_days: int = SPONSOR_WINDOW_DAYS
    sessions: list[dict] = field(default_factory=list)
    delegated: int = 0

    @property
    def ratio(self) -> float | None:
        return None if self.held == 0 else self.present / self.held

    @property
    def pct(self) -> int | None:
        return ratio_pct(self.present, self.held)


@shared_per_scan
def sponsor_presence(
    *,
    program_ids: Collection[int],
    as_of: dt.date,
    window_days: int = SPONSOR_WINDOW_DAYS,
    with_sessions: bool = True,
) -> dict[int, SponsorPresence]:
    """Per program: the executive sponsor's in-person presence over the window ending on `as_of`.

    Counts held sessions dated in (as_of - window_days, as_of] of the program's forums
    (active or not) where the program's sponsor is the chair or a member; the sponsor is
    present when their Attendance row says `present` (a delegate does not count), and
    `delegated` when that row says absent with a delegate named (who came instead). The
    sponsor is the one named on the program now. Every program of `program_ids` has an
    entry (held 0 without a sponsor or sessions); `sessions` lists the held sessions with
    `present` and `delegated`, oldest first (left empty with `with_sessions=False`, which
    only counts). The one attendance rule of `sponsor_disengaged`, `sponsor_delegating`,
    risk's `sponsor_absent` and `sponsor_delegating` and the dashboard. One query.
    """
    program_ids = list(program_ids)
    start, end = window_bounds(as_of, window_days)
    sponsor_id = F("forum__program__executive_sponsor_id")
    is_member = Exists(
        Forum.members.through.objects.filter(
            forum_id=OuterRef("forum_id"), person_id=OuterRef("forum__program__executive_sponsor_id")
        )
    )
    rows = (
        ForumSession.objects.filter(
            forum__program_id__in=program_ids,
            status=SessionStatus.HELD,
            scheduled_for__gte=start,
            scheduled_for__lt=end,
            forum__program__executive_sponsor__isnull=False,
        )
        .annotate(is_member=is_member)
        .filter(Q(forum__chair_id=sponsor_id) | Q(is_member=True))
        # A join on the session's few attendance rows, not a correlated EXISTS: PostgreSQL
        # answers the EXISTS by hashing the whole attendance table (3× slower per organization).
        .annotate(
            sponsor_present=Count("attendance", filter=Q(attendance__person_id=sponsor_id, attendance__present=True)),
            sponsor_delegated=Count(
                "attendance",
                filter=Q(
                    attendance__person_id=sponsor_id,
                    attendance__present=False,
                    attendance__delegate__isnull=False,
                ),
            ),
        )
    )
    # Per program: [held, present, delegated].
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    sessions: dict[int, list[dict]] = defaultdict(list)
    if not with_sessions:
        for program_id, was_present, delegated in rows.order_by().values_list(
            "forum__program_id", "sponsor_present", "sponsor_delegated"
        ):
            _count(counts[program_id], was_present, delegated)
    else:
        for row in rows.order_by("scheduled_for", "id").values(
            "id",
            "scheduled_for",
            "status",
            "forum_id",
            "forum__name",
            "forum__program_id",
            "sponsor_present",
            "sponsor_delegated",
        ):
            program_id = row["forum__program_id"]
            _count(counts[program_id], row["sponsor_present"], row["sponsor_delegated"])
            sessions[program_id].append(
                {
                    "id": row["id"],
                    "date": local_date(row["scheduled_for"]).isoformat(),
                    "status": row["status"],
                    "forum_id": row["forum_id"],
                    "forum": row["forum__name"],
                    "present": bool(row["sponsor_present"]),
                    "delegated": bool(row["sponsor_delegated"]) and not row["sponsor_present"],
                }
            )
    out = {}
    for program_id in program_ids:
        held, present_count, delegated_count = counts.get(program_id, (0, 0, 0))
        out[program_id] = SponsorPresence(
            held=held,
            present=present_count,
            window_days=window_days,
            sessions=sessions.get(program_id, []),
            delegated=delegated_count,
        )
    return out


def _count(counts: list[int], present: int, delegated: int) -> None:
    """Add one held session to [held, present, delegated]: present in person wins over a delegate named too."""
    counts[0] += 1
    if present:
        counts[1] += 1
    elif delegated:
        counts[2] += 1


# --- Forum adherence ---------------------------------------------------------------------


@dataclass(frozen=True)
class ForumAdherence:
    """Sessions dated in the window: all of them whatever their status, held, and cancelled or postponed."""

    scheduled: int = 0
    held: int = 0
    cancelled: int = 0
    window_days: int = FORUM_WINDOW_DAYS

    @property
    def pct(self) -> int | None:
        """Held out of scheduled, as a whole percentage (None without sessions)."""
        return ratio_pct(self.held, self.scheduled)


@shared_per_scan
def forum_adherence(
    *, program_ids: Collection[int], as_of: dt.date, window_days: int = FORUM_WINDOW_DAYS, per_forum: bool = False
) -> dict[int, ForumAdherence]:
    """Per program (or per forum with `per_forum=True`): sessions dated in (as_of - window_days, as_of].

    `scheduled` counts every session in the window whatever its status; `held` the held
    ones; `cancelled` the cancelled or postponed ones. Forums active or not. Every program
    of `program_ids` has an entry; per forum, only forums with a session in the window.
    One query.
    """
    program_ids = list(program_ids)
    start, end = window_bounds(as_of, window_days)
    by = "forum_id" if per_forum else "forum__program_id"
    rows = (
        ForumSession.objects.filter(forum__program_id__in=program_ids, scheduled_for__gte=start, scheduled_for__lt=end)
        .values(by)
        .annotate(
            total=Count("id"),
            held=Count("id", filter=Q(status=SessionStatus.HELD)),
            cancelled=Count("id", filter=Q(status__in=CANCELLED_STATUSES)),
        )
        .order_by()
    )
    out = {row[by]: ForumAdherence(row["total"], row["held"], row["cancelled"], window_days) for row in rows}
    if not per_forum:
        for program_id in program_ids:
            out.setdefault(program_id, ForumAdherence(window_days=window_days))
    return out


# --- Flags open on a date ----------------------------------------------------------------


def flag_age_days(first_detected_on: dt.date, as_of: dt.date) -> int:
    """A flag's age on `as_of`: whole days since its first detection (0 on that day)."""
    return max(0, (as_of - first_detected_on).days)


def flags_open_on(*, as_of: dt.date, program_ids: Collection[int] | None = None) -> QuerySet[Flag]:
    """The flags open at the end of `as_of` (`Flag.objects.open_on`), most severe then oldest
    first, each as it stood that day (`Flag.objects.with_state_on`: `status_on`, open or
    acknowledged; `severity_on` and `title_on`, which every reader shows instead of the
    stored ones) and ranked by that severity (`severity_rank`). A lazy QuerySet: narrow it
    further (a FlagFilterSet) before reading it."""
    flags = Flag.objects.open_on(as_of)
    if program_ids is not None:
        flags = flags.filter(program_id__in=list(program_ids))
    return (
        flags.with_state_on(as_of)
        .annotate(severity_rank=severity_rank("severity_on"))
        .order_by("-severity_rank", "first_detected_on", "id")
    )


def flag_counts(*, program_ids: Collection[int], as_of: dt.date) -> dict[int, dict[str, int]]:
    """Flags open on `as_of` by their severity on `as_of` (`with_severity_on`), per program
    (every severity key present). One query."""
    rows = (
        Flag.objects.open_on(as_of)
        .filter(program_id__in=list(program_ids))
        .with_severity_on(as_of)
        .values("program_id")
        # Counted per severity inside one group per program: grouping by `severity_on`
        # itself would put the correlated subquery of a past day in the GROUP BY.
        .annotate(**{str(s): Count("id", filter=Q(severity_on=s)) for s in SEVERITIES})
        .order_by()
    )
    out: dict[int, dict[str, int]] = {pid: dict.fromkeys(SEVERITIES, 0) for pid in program_ids}
    for row in rows:
        out[row["program_id"]].update({s: row[str(s)] for s in SEVERITIES})
    return out


def top_open_flags(*, program_ids: Collection[int], as_of: dt.date, per_program: int) -> dict[int, list[dict]]:
    """The `per_program` most severe, then oldest, flags open on `as_of` of each program,
    with their severity and title on `as_of` (`with_severity_on`), owner name and age on
    `as_of`. One query."""
    rows = (
        Flag.objects.open_on(as_of)
        .filter(program_id__in=list(program_ids))
        .with_severity_on(as_of)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("program_id")],
                order_by=[severity_rank("severity_on").desc(), F("first_detected_on").asc(), F("id").asc()],
            )
        )
        .filter(rn__lte=per_program)
        .order_by("program_id", "rn")
        .values("id", "program_id", "title_on", "kind", "severity_on", "owner__name", "first_detected_on")
    )
    out: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        row["title"], row["severity"] = row.pop("title_on"), row.pop("severity_on")
        row["age_days"] = flag_age_days(row["first_detected_on"], as_of)
        out[row["program_id"]].append(row)
    return dict(out)


# --- Risk on a date ----------------------------------------------------------------------


@dataclass
class RiskOnDate:
    """The latest assessment dated on or before the day, and the one before it."""

    program_id: int
    as_of: dt.date
    score: int
    level: str
    factors: list | None = None
    previous_score: int | None = None
    previous_as_of: dt.date | None = None

    @property
    def level_label(self) -> str:
        return RiskLevel(self.level).label

    @property
    def change(self) -> int | None:
        return None if self.previous_score is None else self.score - self.previous_score

    @property
    def trend(self) -> str | None:
        """`rising`, `falling` or `steady` against the previous assessment; None for a first one."""
        if self.change is None:
            return None
        return "rising" if self.change > 0 else "falling" if self.change < 0 else "steady"


def risk_on(*, program_ids: Collection[int], as_of: dt.date, with_factors: bool = False) -> dict[int, RiskOnDate]:
    """Per program: the latest RiskAssessment with `as_of` ≤ the day (and the previous one,
    for the trend); programs never assessed by then are absent. One query."""
    columns = ["program_id", "as_of", "score", "level", "rn", *(["factors"] if with_factors else [])]
    rows = (
        RiskAssessment.objects.filter(program_id__in=list(program_ids), as_of__lte=as_of)
        .annotate(rn=Window(RowNumber(), partition_by=[F("program_id")], order_by=[F("as_of").desc()]))
        .filter(rn__lte=2)
        .order_by("program_id", "rn")
        .values(*columns)
    )
    out: dict[int, RiskOnDate] = {}
    for row in rows:
        if row["rn"] == 1:
            out[row["program_id"]] = RiskOnDate(
                row["program_id"], row["as_of"], row["score"], row["level"], row.get("factors")
            )
        elif row["program_id"] in out:
            out[row["program_id"]].previous_score = row["score"]
            out[row["program_id"]].previous_as_of = row["as_of"]
    return out


def risk_history(
    *, program_id: int, as_of: dt.date, since: dt.date | None = None, with_factors: bool = False
) -> list[dict]:
    """The program's assessments dated on or before `as_of` (and after `since`, if given),
    oldest first: as_of, score, level (and factors). One query."""
    rows = RiskAssessment.objects.filter(program_id=program_id, as_of__lte=as_of)
    if since is not None:
        rows = rows.filter(as_of__gt=since)
    return list(rows.order_by("as_of").values("as_of", "score", "level", *(["factors"] if with_factors else [])))


# --- Initiatives in flight and their stall -----------------------------------------------


def stall_due_on(last_activity_on: dt.date, stall_after_days: int) -> dt.date:
    """The last day an initiative last active on `last_activity_on` is not stalled: a progress
    update is due by then (`initiative_stalled` fires the day after; the nudges count to it)."""
    return last_activity_on + dt.timedelta(days=stall_after_days)


def stall_severity(last_activity_on: dt.date | None, stall_after_days: int, as_of: dt.date) -> str | None:
    """initiative_stalled's rule: silent longer than stall_after_days → medium, longer than 2× → high."""
    if last_activity_on is None:
        return None
    if as_of > stall_due_on(last_activity_on, 2 * stall_after_days):
        return Severity.HIGH
    if as_of > stall_due_on(last_activity_on, stall_after_days):
        return Severity.MEDIUM
    return None


def update_due(last_activity_on: dt.date | None, stall_after_days: int, as_of: dt.date) -> bool:
    """An initiative's owner owes a progress update once half the program's silence allowance
    (stall_after_days) has passed since its last activity: reporting then keeps it from
    `stall_severity`'s stall (My items lists it; stalled ones stay listed)."""
    if last_activity_on is None:
        return False
    return (as_of - last_activity_on).days * 2 > stall_after_days


@shared_per_scan
def in_flight_initiatives(
    *, as_of: dt.date, program_ids: Collection[int] | None = None, where: Q | None = None, names: bool = False
) -> list[dict]:
    """In-progress or blocked initiatives of `program_ids` (or matching `where`) on `as_of`.

    Each row: id, name, status, owner_id, stage_id, program_id, program__stall_after_days,
    starts_on, last_update_on (the latest progress update reported on or before `as_of`:
    later ones did not exist yet), last_activity_on (that, else starts_on), days_silent
    and stall_severity (`stall_severity`, None when not stalled); with `names=True` also
    owner__name and stage__name. Ordered by program and id. One query.
    """
    latest = (
        ProgressUpdate.objects.filter(initiative_id=OuterRef("pk"), reported_on__lte=as_of)
        .order_by("-reported_on")
        .values("reported_on")[:1]
    )
    initiatives = Initiative.objects.filter(status__in=IN_FLIGHT)
    if program_ids is not None:
        initiatives = initiatives.filter(program_id__in=list(program_ids))
    if where is not None:
        initiatives = initiatives.filter(where)
    rows = list(
        initiatives.annotate(last_update_on=Subquery(latest))
        .annotate(last_activity_on=Coalesce(F("last_update_on"), F("starts_on")))
        .order_by("program_id", "id")
        .values(
            "id",
            "name",
            "status",
            "owner_id",
            "stage_id",
            "program_id",
            "program__stall_after_days",
            "starts_on",
            "last_update_on",
            "last_activity_on",
            *(("owner__name", "stage__name") if names else ()),
        )
    )
    for row in rows:
        last = row["last_activity_on"]
        row["days_silent"] = None if last is None else (as_of - last).days
        row["stall_severity"] = stall_severity(last, row["program__stall_after_days"], as_of)
    return rows
