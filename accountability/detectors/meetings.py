"""What happens inside forum sessions: customer items pushed off the agenda, falling attendance."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber

from programs.dates import end_of, local_date
from programs.models import Organization

from ..choices import AgendaOutcome, FlagKind, SessionStatus, Severity, SubjectType
from ..findings import Finding
from ..models import AgendaItem, Attendance, Forum, ForumSession
from .common import iso, scope_q
from .forums import forum_owner, last_sessions, session_evidence

DEFERRED_OUTCOMES = (AgendaOutcome.DEFERRED, AgendaOutcome.DROPPED)
ATTENDANCE_MIN_HELD, ATTENDANCE_SAMPLE, ATTENDANCE_RATIO = 6, 3, 0.6


def detect_customer_agenda_deferred(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active forums whose two most recent held sessions each deferred or dropped a customer item.

    "Two consecutive held sessions" is read as the latest two held sessions dated on or
    before as_of: the flag clears once a held session handles its customer items.
    Medium. Two queries; read-only.
    """
    last_two = last_sessions(organization, as_of, program_ids, 2, held_only=True)
    items = (
        AgendaItem.objects.filter(
            session_id__in=last_two.values("id"), customer_item=True, outcome__in=DEFERRED_OUTCOMES
        )
        .order_by("session__scheduled_for", "session_id", "id")
        .values(
            "id",
            "title",
            "outcome",
            "metric_id",
            "initiative_id",
            "session_id",
            "session__scheduled_for",
            "session__status",
            "session__forum_id",
            "session__forum__name",
            "session__forum__chair_id",
            "session__forum__program_id",
            "session__forum__program__customer_champion_id",
        )
    )
    by_forum: dict[int, dict[int, dict]] = defaultdict(dict)
    forum_rows: dict[int, dict] = {}
    for item in items:
        forum_id = item["session__forum_id"]
        forum_rows[forum_id] = item
        session = by_forum[forum_id].setdefault(
            item["session_id"],
            {
                "id": item["session_id"],
                "date": iso(local_date(item["session__scheduled_for"])),
                "status": item["session__status"],
                "deferred_items": [],
            },
        )
        session["deferred_items"].append(
            {
                "id": item["id"],
                "title": item["title"],
                "outcome": item["outcome"],
                "metric_id": item["metric_id"],
                "initiative_id": item["initiative_id"],
            }
        )
    findings = []
    for forum_id, sessions in sorted(by_forum.items()):
        if len(sessions) < 2:  # both of the last two held sessions must have pushed customer work off
            continue
        row = forum_rows[forum_id]
        ordered = sorted(sessions.values(), key=lambda s: (s["date"], s["id"]))
        n_items = sum(len(s["deferred_items"]) for s in ordered)
        findings.append(
            Finding(
                kind=FlagKind.CUSTOMER_AGENDA_DEFERRED,
                program_id=row["session__forum__program_id"],
                subject_type=SubjectType.FORUM,
                subject_id=forum_id,
                severity=Severity.MEDIUM,
                owner_id=forum_owner(row, prefix="session__forum__"),
                title=(
                    f"Forum '{row['session__forum__name']}' pushed customer items off the agenda in its last "
                    f"2 sessions ({n_items} items)"
                ),
                detail="Customer items deferred or dropped when time ran short, two sessions running.",
                evidence={"forum_id": forum_id, "forum": row["session__forum__name"], "sessions": ordered},
                identity={"forum_id": forum_id, "session_ids": [s["id"] for s in ordered]},
            )
        )
    return findings


def detect_forum_attendance_falling(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Active forums with at least 6 held sessions whose member attendance fell under 60%.

    Attendance of a held session = members of the forum present in person (Attendance.present
    for a person in forum.members). Average of the last 3 held sessions < 60% of the average
    of the first 3 (held sessions dated on or before as_of) → medium; no flag when the first
    three average 0. Two queries; read-only.
    """
    partition = [F("forum_id")]
    sampled = (
        ForumSession.objects.filter(
            scope_q(organization, program_ids, prefix="forum__program__"),
            forum__active=True,
            status=SessionStatus.HELD,
            scheduled_for__lt=end_of(as_of),
        )
        .annotate(
            first_rn=Window(RowNumber(), partition_by=partition, order_by=[F("scheduled_for").asc(), F("id").asc()]),
            last_rn=Window(RowNumber(), partition_by=partition, order_by=[F("scheduled_for").desc(), F("id").desc()]),
            held=Window(Count("id"), partition_by=partition),
        )
        .filter(held__gte=ATTENDANCE_MIN_HELD)
        .filter(Q(first_rn__lte=ATTENDANCE_SAMPLE) | Q(last_rn__lte=ATTENDANCE_SAMPLE))
    )
    rows = list(
        sampled.order_by("forum_id", "scheduled_for", "id").values(
            "id",
            "scheduled_for",
            "status",
            "forum_id",
            "forum__name",
            "forum__chair_id",
            "forum__program_id",
            "forum__program__customer_champion_id",
            "first_rn",
            "last_rn",
            "held",
        )
    )
    if not rows:
        return []
    # Counted only for the sampled sessions (at most 6 per forum), not for every held session;
    # by their ids, so the window query above is not run a second time as a subquery.
    is_member = Exists(
        Forum.members.through.objects.filter(forum_id=OuterRef("session__forum_id"), person_id=OuterRef("person_id"))
    )
    present = dict(
        Attendance.objects.filter(session_id__in=[row["id"] for row in rows], present=True)
        .filter(is_member)
        .values("session_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("session_id", "n")
    )
    for row in rows:
        row["present_members"] = present.get(row["id"], 0)
    by_forum: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_forum[row["forum_id"]].append(row)
    findings = []
    for forum_id, sessions in sorted(by_forum.items()):
        first = [s for s in sessions if s["first_rn"] <= ATTENDANCE_SAMPLE]
        last = [s for s in sessions if s["last_rn"] <= ATTENDANCE_SAMPLE]
        first_avg = sum(s["present_members"] for s in first) / len(first)
        last_avg = sum(s["present_members"] for s in last) / len(last)
        if first_avg == 0 or last_avg >= ATTENDANCE_RATIO * first_avg:
            continue
        row = sessions[0]
        findings.append(
            Finding(
                kind=FlagKind.FORUM_ATTENDANCE_FALLING,
                program_id=row["forum__program_id"],
                subject_type=SubjectType.FORUM,
                subject_id=forum_id,
                severity=Severity.MEDIUM,
                owner_id=forum_owner(row, prefix="forum__"),
                title=(
                    f"Attendance at forum '{row['forum__name']}' fell to {last_avg:.1f} members per session "
                    f"from {first_avg:.1f}"
                ),
                detail=(
                    f"Members present in person, last {ATTENDANCE_SAMPLE} held sessions against the first "
                    f"{ATTENDANCE_SAMPLE}: {last_avg / first_avg:.0%} (threshold {ATTENDANCE_RATIO:.0%})."
                ),
                evidence={
                    "forum_id": forum_id,
                    "forum": row["forum__name"],
                    "held_sessions": row["held"],
                    "first_sessions": [session_evidence(s, present=s["present_members"]) for s in first],
                    "last_sessions": [session_evidence(s, present=s["present_members"]) for s in last],
                    "first_average": round(first_avg, 2),
                    "last_average": round(last_avg, 2),
                    "ratio": round(last_avg / first_avg, 3),
                    "threshold_ratio": ATTENDANCE_RATIO,
                },
                identity={"forum_id": forum_id, "last_session_ids": [s["id"] for s in last]},
            )
        )
    return findings
