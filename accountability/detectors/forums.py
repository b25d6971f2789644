"""Forum detectors and the forum facts the risk assessment reuses.

Forum detectors look at active forums only: a forum switched off is no longer a place
where anyone is held to account (readiness separately demands at least one active forum).
"""

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Collection

from django.db.models import F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber

from cxgov.scan_inputs import shared_per_scan
from programs.dates import end_of, local_date, window_start
from programs.models import Organization, Program

from ..choices import CADENCE_DAYS, FlagKind, SessionStatus, Severity, SubjectType
from ..findings import Finding
from ..models import Forum, ForumSession
from ..selectors import CANCELLED_STATUSES, SPONSOR_WINDOW_DAYS, SponsorPresence, forum_adherence, sponsor_presence
from .common import days_between, id_list, iso, scanned_program_ids, scope_q, sponsor_owner


def scanned_sponsor_presence(
    *,
    organization: Organization,
    as_of: dt.date,
    program_ids: Collection[int] | None = None,
    sessions_when: Callable[[SponsorPresence], bool] | None = None,
) -> dict[int, SponsorPresence]:
    """`accountability.selectors.sponsor_presence` (180 days) for every scanned program in scope.

    With `sessions_when`, the counts are read for every program and the sessions (the
    evidence) only for the programs whose counts meet it; the others come without their
    session list. The sessions are read as `_sessions_of` reads them for the sponsor
    detectors, so a scan reads them once. Two queries (the scanned programs, then the
    sessions); three with `sessions_when` when a program meets it. Read-only.
    """
    ids = scanned_program_ids(organization, program_ids)
    if sessions_when is None:
        return sponsor_presence(program_ids=ids, as_of=as_of)
    counts = sponsor_presence(program_ids=ids, as_of=as_of, with_sessions=False)
    wanted = [pid for pid, presence in counts.items() if sessions_when(presence)]
    if not wanted:
        return counts
    detailed = _sessions_of(counts, as_of, also=sessions_when)
    return counts | {pid: detailed[pid] for pid in wanted}


def sponsor_missed_sessions(p: SponsorPresence) -> bool:
    """3+ held sessions and the sponsor missing from at least one in person: every rule that
    cites the sponsor's sessions (sponsor_disengaged, sponsor_delegating, risk's sponsor
    factors) fires only on such a program."""
    return p.held >= SPONSOR_MIN_HELD and p.present < p.held


def _sessions_of(
    counts: dict[int, SponsorPresence], as_of: dt.date, also: Callable[[SponsorPresence], bool]
) -> dict[int, SponsorPresence]:
    """The sponsor's sessions of every program of `counts` that missed one (and any `also`
    wants): one list for all the rules that cite them, so within a scan the detectors and
    the risk assessment ask the same question once (`shared_per_scan`)."""
    ids = [pid for pid, p in counts.items() if sponsor_missed_sessions(p) or also(p)]
    return sponsor_presence(program_ids=ids, as_of=as_of) if ids else {}


def session_cancellation(
    *, organization: Organization, as_of: dt.date, days: int = 90, program_ids: Collection[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per scanned program: (cancelled or postponed, scheduled) sessions dated in (as_of - days, as_of].

    The counts of `accountability.selectors.forum_adherence`. Every scanned program in
    scope has an entry ((0, 0) without sessions). Two queries, read-only.
    """
    counts = forum_adherence(program_ids=scanned_program_ids(organization, program_ids), as_of=as_of, window_days=days)
    return {pid: (c.cancelled, c.scheduled) for pid, c in counts.items()}


# --- detectors ---------------------------------------------------------------------------

LAPSED_MEDIUM_FACTOR, LAPSED_HIGH_FACTOR = 1.5, 3
LAST_SESSIONS = 4
CANCELLED_MIN = 2
SPONSOR_MIN_HELD, SPONSOR_MIN_RATIO = 3, 0.5


def _active_forums(organization: Organization, program_ids: Collection[int] | None):
    return Forum.objects.filter(scope_q(organization, program_ids), active=True)


def forum_owner(row: dict, prefix: str = "") -> int | None:
    """Forum kinds are owned by the chair, or the program's champion when there is no chair."""
    return row[f"{prefix}chair_id"] or row[f"{prefix}program__customer_champion_id"]


def session_evidence(row: dict, **extra) -> dict:
    return {"id": row["id"], "date": iso(local_date(row["scheduled_for"])), "status": row["status"], **extra}


def last_sessions(
    organization: Organization, as_of: dt.date, program_ids: Collection[int] | None, n: int, held_only: bool = False
):
    """The last `n` sessions dated on or before as_of of each active forum, newest first (one query)."""
    qs = ForumSession.objects.filter(
        scope_q(organization, program_ids, prefix="forum__program__"),
        forum__active=True,
        scheduled_for__lt=end_of(as_of),
    )
    if held_only:
        qs = qs.filter(status=SessionStatus.HELD)
    return qs.annotate(
        rn=Window(RowNumber(), partition_by=[F("forum_id")], order_by=[F("scheduled_for").desc(), F("id").desc()])
    ).filter(rn__lte=n)


def lapse_due_on(anchor: dt.date, cadence: str, factor: float = LAPSED_MEDIUM_FACTOR) -> dt.date:
    """The last day a forum whose clock started on `anchor` (its start, or its last held
    session) is not lapsed: it must meet by then (`forum_lapsed` fires the day after at
    medium; with `factor=LAPSED_HIGH_FACTOR`, at high). days > 1.5 × 7 means days ≥ 11."""
    return anchor + dt.timedelta(days=math.floor(factor * CADENCE_DAYS[cadence]))


@shared_per_scan
def lapse_rows(organization: Organization, as_of: dt.date, program_ids: Collection[int] | None) -> list[dict]:
    """Active forums in scope started by as_of, with `anchor` (the later of started_on and
    the last held session on or before as_of) and `last_held_on`. One query."""
    last_held = (
        ForumSession.objects.filter(
            forum_id=OuterRef("pk"),
            status=SessionStatus.HELD,
            scheduled_for__lt=end_of(as_of),
        )
        .order_by("-scheduled_for")
        .values("scheduled_for")[:1]
    )
    rows = (
        _active_forums(organization, program_ids)
        .filter(started_on__lte=as_of)
        .annotate(last_held_at=Subquery(last_held))
        .order_by("program_id", "id")
        .values(
            "id",
            "name",
            "cadence",
            "started_on",
            "chair_id",
            "program_id",
            "program__customer_champion_id",
            "last_held_at",
        )
    )
    rows = list(rows)
    for row in rows:
        row["last_held_on"] = last_held_on = local_date(row["last_held_at"])
        row["anchor"] = max(row["started_on"], last_held_on) if last_held_on else row["started_on"]
    return rows


def detect_forum_lapsed(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active forums with no held session for more than 1.5× their cadence (high past 3×).

    Counted from the later of started_on and the last held session dated on or before
    as_of (`lapse_due_on`); a forum starting after as_of is not lapsed. Cadence days:
    weekly 7, biweekly 14, monthly 30, quarterly 91. Two queries; read-only.
    """
    program_ids = id_list(program_ids)
    lapsed = []
    for row in lapse_rows(organization, as_of, program_ids):
        cadence_days = CADENCE_DAYS[row["cadence"]]
        last_held_on, anchor = row["last_held_on"], row["anchor"]
        days = days_between(anchor, as_of)
        if as_of > lapse_due_on(anchor, row["cadence"], LAPSED_HIGH_FACTOR):
            severity = Severity.HIGH
        elif as_of > lapse_due_on(anchor, row["cadence"]):
            severity = Severity.MEDIUM
        else:
            continue
        lapsed.append((row, severity, days, cadence_days, last_held_on, anchor))
    if not lapsed:
        return []
    recent: dict[int, list[dict]] = defaultdict(list)
    for s in last_sessions(organization, as_of, program_ids, LAST_SESSIONS).values(
        "id", "forum_id", "scheduled_for", "status"
    ):
        recent[s["forum_id"]].append(session_evidence(s))
    findings = []
    for row, severity, days, cadence_days, last_held_on, anchor in lapsed:
        since = f"since {iso(last_held_on)}" if last_held_on else f"since it started on {iso(row['started_on'])}"
        findings.append(
            Finding(
                kind=FlagKind.FORUM_LAPSED,
                program_id=row["program_id"],
                subject_type=SubjectType.FORUM,
                subject_id=row["id"],
                severity=severity,
                owner_id=forum_owner(row),
                title=f"Forum '{row['name']}' has not met for {days} days",
                detail=f"No held session {since}; it is meant to meet {row['cadence']} ({cadence_days} days).",
                evidence={
                    "forum_id": row["id"],
                    "forum": row["name"],
                    "cadence": row["cadence"],
                    "cadence_days": cadence_days,
                    "started_on": iso(row["started_on"]),
                    "last_held_on": iso(last_held_on),
                    "days_since": days,
                    "medium_after_days": LAPSED_MEDIUM_FACTOR * cadence_days,
                    "high_after_days": LAPSED_HIGH_FACTOR * cadence_days,
                    "sessions": recent.get(row["id"], []),
                },
                identity={"forum_id": row["id"], "since": iso(anchor), "severity": severity},
            )
        )
    return findings


def detect_forum_sessions_cancelled(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active forums with at least 2 of their last 4 sessions (dated on or before as_of) cancelled or postponed.

    Medium. Two queries; read-only.
    """
    program_ids = id_list(program_ids)
    sessions: dict[int, list[dict]] = defaultdict(list)
    for s in last_sessions(organization, as_of, program_ids, LAST_SESSIONS).values(
        "id", "forum_id", "scheduled_for", "status"
    ):
        sessions[s["forum_id"]].append(session_evidence(s))
    missed = {fid: [s for s in items if s["status"] in CANCELLED_STATUSES] for fid, items in sessions.items()}
    flagged = {fid for fid, items in missed.items() if len(items) >= CANCELLED_MIN}
    if not flagged:
        return []
    forums = (
        _active_forums(organization, program_ids)
        .order_by("program_id", "id")
        .values("id", "name", "chair_id", "program_id", "program__customer_champion_id")
    )
    findings = []
    for row in forums:
        if row["id"] not in flagged:
            continue
        n_missed, n_last = len(missed[row["id"]]), len(sessions[row["id"]])
        findings.append(
            Finding(
                kind=FlagKind.FORUM_SESSIONS_CANCELLED,
                program_id=row["program_id"],
                subject_type=SubjectType.FORUM,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=forum_owner(row),
                title=f"Forum '{row['name']}': {n_missed} of its last {n_last} sessions were cancelled or postponed",
                detail="Accountability needs the forum to actually meet.",
                evidence={
                    "forum_id": row["id"],
                    "forum": row["name"],
                    "sessions": sessions[row["id"]],
                    "cancelled_or_postponed": n_missed,
                    "threshold": CANCELLED_MIN,
                    "of_last": LAST_SESSIONS,
                },
                identity={"forum_id": row["id"], "missed_session_ids": [s["id"] for s in missed[row["id"]]]},
            )
        )
    return findings


def sponsor_disengaged(p: SponsorPresence) -> bool:
    """sponsor_disengaged's condition: at least 3 held sessions, present in person at fewer than half."""
    return p.held >= SPONSOR_MIN_HELD and p.present * 2 < p.held


def sponsor_delegating(p: SponsorPresence) -> bool:
    """sponsor_delegating's condition (also risk's factor): 3+ held sessions, a delegate sent to half or more."""
    return p.held >= SPONSOR_MIN_HELD and p.delegated * 2 >= p.held


def _sponsor_programs(
    organization: Organization, as_of: dt.date, program_ids: Collection[int] | None, condition
) -> list[tuple[dict, SponsorPresence]]:
    """The scanned programs whose `sponsor_presence` meets `condition`, with their sessions.

    Counts first for every scanned program (the cheap form of the selector), then the
    sessions only of the programs where the sponsor missed one (`_sessions_of`, the list
    the other sponsor rules share): the evidence never costs the full session list of a
    whole organization. Two queries when nothing meets it, three otherwise.
    """
    programs = {
        row["id"]: row
        for row in Program.objects.filter(scope_q(organization, id_list(program_ids), prefix=""))
        .order_by("id")
        .values("id", "name", "executive_sponsor_id", "executive_sponsor__name")
    }
    counts = sponsor_presence(program_ids=list(programs), as_of=as_of, with_sessions=False)
    hits = sorted(pid for pid, presence in counts.items() if condition(presence))
    if not hits:
        return []
    detailed = _sessions_of(counts, as_of, also=condition)
    return [(programs[pid], detailed[pid]) for pid in hits]


def detect_sponsor_disengaged(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Sponsors present in person at fewer than half of at least 3 held sessions in 180 days → high.

    Uses `accountability.selectors.sponsor_presence`. Owned by the sponsor; starts at
    escalation level 3 (the board contact) when the sponsor is the organization's CEO
    (`common.sponsor_owner`). Two or three queries; read-only.
    """
    first_day = window_start(as_of, SPONSOR_WINDOW_DAYS)
    findings = []
    for row, p in _sponsor_programs(organization, as_of, program_ids, sponsor_disengaged):
        sponsor = row["executive_sponsor__name"]
        owner_id, level = sponsor_owner(organization, row["executive_sponsor_id"])
        findings.append(
            Finding(
                kind=FlagKind.SPONSOR_DISENGAGED,
                program_id=row["id"],
                subject_type=SubjectType.PROGRAM,
                subject_id=row["id"],
                severity=Severity.HIGH,
                owner_id=owner_id,
                escalation_level=level,
                title=(
                    f"Sponsor {sponsor} attended {p.present} of {p.held} forum sessions of "
                    f"'{row['name']}' in the last {SPONSOR_WINDOW_DAYS} days"
                ),
                detail="Commitment shows in who turns up: a delegate does not count.",
                evidence={
                    "program_id": row["id"],
                    "sponsor_id": row["executive_sponsor_id"],
                    "sponsor": sponsor,
                    "held": p.held,
                    "present": p.present,
                    "ratio": round(p.ratio, 3),
                    "window_from": iso(first_day),
                    "window_to": iso(as_of),
                    "min_held": SPONSOR_MIN_HELD,
                    "threshold_ratio": SPONSOR_MIN_RATIO,
                    "sessions": p.sessions,
                },
                identity={
                    "sponsor_id": row["executive_sponsor_id"],
                    "sessions": [(s["id"], s["present"]) for s in p.sessions],
                },
            )
        )
    return findings


def detect_sponsor_delegating(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Sponsors who sent a delegate to at least half of at least 3 held sessions in 180 days → medium.

    "There are certain things you can't delegate": the same attendance rule and window as
    sponsor_disengaged (`accountability.selectors.sponsor_presence`), counting the
    sessions where the sponsor was absent with a delegate named. Owned by the sponsor;
    level 3 when the sponsor is the CEO. Two or three queries; read-only.
    """
    first_day = window_start(as_of, SPONSOR_WINDOW_DAYS)
    findings = []
    for row, p in _sponsor_programs(organization, as_of, program_ids, sponsor_delegating):
        sponsor = row["executive_sponsor__name"]
        owner_id, level = sponsor_owner(organization, row["executive_sponsor_id"])
        findings.append(
            Finding(
                kind=FlagKind.SPONSOR_DELEGATING,
                program_id=row["id"],
                subject_type=SubjectType.PROGRAM,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=owner_id,
                escalation_level=level,
                title=(
                    f"Sponsor {sponsor} sent a delegate to {p.delegated} of {p.held} forum sessions of "
                    f"'{row['name']}' in the last {SPONSOR_WINDOW_DAYS} days"
                ),
                detail="There are things a sponsor cannot delegate: showing up is how commitment is seen.",
                evidence={
                    "program_id": row["id"],
                    "sponsor_id": row["executive_sponsor_id"],
                    "sponsor": sponsor,
                    "held": p.held,
                    "delegated": p.delegated,
                    "present": p.present,
                    "window_from": iso(first_day),
                    "window_to": iso(as_of),
                    "min_held": SPONSOR_MIN_HELD,
                    "threshold_ratio": SPONSOR_MIN_RATIO,
                    "sessions": p.sessions,
                },
                identity={
                    "sponsor_id": row["executive_sponsor_id"],
                    "delegated_session_ids": [s["id"] for s in p.sessions if s["delegated"]],
                },
            )
        )
    return findings
