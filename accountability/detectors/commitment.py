"""The leadership's commitment: a program stopped or cut before its earliest review date, and
a champion spread over more programs than one person's time allows."""

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from programs.choices import SCANNED_STATUSES, ProgramStatus
from programs.dates import add_months, end_of, local_date, window_start
from programs.models import BREACH_WATCH_DAYS, DEFAULT_REVIEW_MONTHS, Organization, Program, ProgramStatusChange
from programs.money import format_day
from programs.selectors import record_in_force

from ..choices import FlagKind, Severity, SubjectType
from ..findings import Finding
from .common import id_list, iso, plural, sponsor_owner

STOPPED = (ProgramStatus.PAUSED, ProgramStatus.CANCELLED)
CHAMPION_MAX_TIME_PCT = 100


def _review_on(history: list[dict], at: dt.datetime, program: dict) -> dt.date | None:
    """The earliest review date in force at `at`: the last history record saved by then that
    has one; else the first recorded one (a record first saved later shows its first values);
    else today's value, else the default (start + 24 months)."""
    dated = [r for r in history if r["earliest_review_on"] is not None]
    before = [r for r in dated if r["history_date"] <= at]
    if before:
        return before[-1]["earliest_review_on"]
    if dated:
        return dated[0]["earliest_review_on"]
    if program["earliest_review_on"] is not None:
        return program["earliest_review_on"]
    return add_months(program["started_on"], DEFAULT_REVIEW_MONTHS) if program["started_on"] else None


def _stop(program: dict, changes: list[dict], history: list[dict], as_of: dt.date) -> dict | None:
    """The pause or cancellation the program stands in on `as_of`, when it began before the
    earliest review in force then. A stop is the run of status changes into paused or
    cancelled since the program was last active: paused early then cancelled later still
    began early. A draft cancelled before launch broke no commitment; a cancellation counts
    for 365 days."""
    if not changes or changes[-1]["to_status"] not in STOPPED:
        return None
    run = []
    for change in reversed(changes):
        if change["to_status"] not in STOPPED:
            break
        run.insert(0, change)
    first, last = run[0], run[-1]
    if first["from_status"] != ProgramStatus.ACTIVE:
        return None
    if last["to_status"] == ProgramStatus.CANCELLED and local_date(last["at"]) < window_start(as_of, BREACH_WATCH_DAYS):
        return None
    review_on = _review_on(history, first["at"], program)
    stopped_on = local_date(first["at"])
    if review_on is None or stopped_on >= review_on:
        return None
    return {
        "what": first["to_status"],
        "on": iso(stopped_on),
        "earliest_review_on": iso(review_on),
        "days_before_review": (review_on - stopped_on).days,
        "reason": first["reason"],
        "changes": [
            {"from": c["from_status"], "to": c["to_status"], "on": iso(local_date(c["at"])), "reason": c["reason"]}
            for c in run
        ],
    }


def _horizon_cuts(program: dict, changes: list[dict], history: list[dict], as_of: dt.date) -> dict | None:
    """The committed horizon on `as_of` below the one the program was launched with, cut
    (at least once) before the earliest review in force on the day of the cut."""
    activation = next((c for c in changes if c["to_status"] == ProgramStatus.ACTIVE), None)
    if activation is None:
        return None
    end = end_of(as_of)
    recorded = [r for r in history if r["history_date"] < end]
    horizon = record_in_force(program, history, end)["committed_horizon_months"]
    launched_with = activation["committed_horizon_months"]
    if horizon >= launched_with:
        return None
    cuts = []
    for before, after in zip(recorded, recorded[1:], strict=False):
        if (
            after["history_date"] < activation["at"]
            or after["committed_horizon_months"] >= before["committed_horizon_months"]
        ):
            continue
        review_on = _review_on(history, after["history_date"], program)
        cut_on = local_date(after["history_date"])
        if review_on is not None and cut_on < review_on:
            cuts.append(
                {
                    "on": iso(cut_on),
                    "from_months": before["committed_horizon_months"],
                    "to_months": after["committed_horizon_months"],
                    "earliest_review_on": iso(review_on),
                    "days_before_review": (review_on - cut_on).days,
                    "reason": after["history_change_reason"] or "",
                }
            )
    if not cuts:
        return None
    return {
        "what": "horizon_shortened",
        "on": cuts[0]["on"],
        "launched_with_months": launched_with,
        "committed_horizon_months": horizon,
        "cuts": cuts,
    }


def _describe(breach: dict) -> str:
    if breach["what"] == "horizon_shortened":
        return (
            f"horizon cut from {breach['launched_with_months']} to {breach['committed_horizon_months']} months "
            f"(first on {format_day(breach['on'])})"
        )
    return f"{breach['what']} on {format_day(breach['on'])}"


def detect_commitment_breached(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Programs paused, cancelled or with their horizon shortened before their earliest review → critical.

    Looks at active and paused programs and, for this kind only, at programs cancelled in
    the 365 days up to `as_of` (`Program.objects.commitment_watched`). As of `as_of`: the
    status from the status changes, the horizon and the earliest review date from the
    program's history (the date in force when each pause or cut was made). The condition
    lasts while the program stays stopped (cancelled: 365 days) or below the horizon it
    was launched with. Owned by the sponsor (else the CEO), starting at escalation level 3:
    the board contact hears at once. Three queries; read-only.
    """
    watched = Program.objects.commitment_watched(as_of).filter(organization=organization)
    program_ids = id_list(program_ids)
    if program_ids is not None:
        watched = watched.filter(id__in=program_ids)
    programs = list(
        watched.order_by("id").values(
            "id",
            "name",
            "status",
            "started_on",
            "earliest_review_on",
            "committed_horizon_months",
            "exit_criteria",
            "executive_sponsor_id",
            "executive_sponsor__name",
        )
    )
    if not programs:
        return []
    ids = [p["id"] for p in programs]
    changes: dict[int, list[dict]] = defaultdict(list)
    for row in (
        ProgramStatusChange.objects.filter(program_id__in=ids, at__lt=end_of(as_of))
        .order_by("program_id", "at", "id")
        .values("program_id", "at", "from_status", "to_status", "reason", "committed_horizon_months")
    ):
        changes[row["program_id"]].append(row)
    history: dict[int, list[dict]] = defaultdict(list)
    for row in (
        Program.history.model.objects.filter(id__in=ids)
        .order_by("id", "history_date", "history_id")
        .values("id", "history_date", "committed_horizon_months", "earliest_review_on", "history_change_reason")
    ):
        history[row["id"]].append(row)

    findings = []
    for program in programs:
        pid = program["id"]
        breaches = [
            b
            for b in (
                _stop(program, changes[pid], history[pid], as_of),
                _horizon_cuts(program, changes[pid], history[pid], as_of),
            )
            if b is not None
        ]
        if not breaches:
            continue
        owner_id, level = sponsor_owner(organization, program["executive_sponsor_id"], breach=True)
        review_on = _review_on(history[pid], end_of(as_of), program)
        findings.append(
            Finding(
                kind=FlagKind.COMMITMENT_BREACHED,
                program_id=pid,
                subject_type=SubjectType.PROGRAM,
                subject_id=pid,
                severity=Severity.CRITICAL,
                owner_id=owner_id,
                escalation_level=level,
                title=(
                    f"Program '{program['name']}' broke its commitment before its earliest review "
                    f"({format_day(review_on)}): " + "; ".join(_describe(b) for b in breaches)
                ),
                detail=(
                    "The leadership committed not to pause, cancel or shorten the program before this date. "
                    + (
                        f"Exit criteria agreed at launch: {program['exit_criteria']}"
                        if program["exit_criteria"]
                        else "No exit criteria were agreed at launch."
                    )
                ),
                evidence={
                    "program_id": pid,
                    "program": program["name"],
                    "status": (changes[pid][-1]["to_status"] if changes[pid] else program["status"]),
                    "sponsor_id": program["executive_sponsor_id"],
                    "sponsor": program["executive_sponsor__name"],
                    "earliest_review_on": iso(review_on),
                    "exit_criteria": program["exit_criteria"],
                    "breaches": breaches,
                },
                identity={"program_id": pid, "breaches": [(b["what"], b["on"]) for b in breaches]},
            )
        )
    return findings


def detect_champion_overloaded(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Programs whose champion gives more than 100% of their time across every program they champion → medium.

    Sums `champion_time_pct` over the organization's active and paused programs with the
    same champion (all of them, even when `program_ids` narrows the findings): work
    "layered onto an over-full plate". One finding per program of such a champion, owned
    by that program's sponsor, who must free the champion's time (as for
    champion_not_officer). Current champions and shares, like champion_not_officer. One
    query; read-only.
    """
    program_ids = id_list(program_ids)
    rows = list(
        Program.objects.filter(organization=organization, status__in=SCANNED_STATUSES, customer_champion__isnull=False)
        .order_by("id")
        .values(
            "id",
            "name",
            "status",
            "champion_time_pct",
            "executive_sponsor_id",
            "customer_champion_id",
            "customer_champion__name",
        )
    )
    by_champion: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_champion[row["customer_champion_id"]].append(row)
    wanted = None if program_ids is None else set(program_ids)
    findings = []
    for row in rows:
        shared = by_champion[row["customer_champion_id"]]
        total = sum(p["champion_time_pct"] for p in shared)
        if total <= CHAMPION_MAX_TIME_PCT or (wanted is not None and row["id"] not in wanted):
            continue
        champion = row["customer_champion__name"]
        programs = [
            {"id": p["id"], "name": p["name"], "status": p["status"], "champion_time_pct": p["champion_time_pct"]}
            for p in shared
        ]
        findings.append(
            Finding(
                kind=FlagKind.CHAMPION_OVERLOADED,
                program_id=row["id"],
                subject_type=SubjectType.PROGRAM,
                subject_id=row["id"],
                severity=Severity.MEDIUM,
                owner_id=row["executive_sponsor_id"],
                title=(
                    f"Champion {champion} is committed to {total}% of their time across "
                    f"{plural(len(shared), 'program')}, '{row['name']}' among them"
                ),
                detail=(
                    "A customer champion needs real time for the job, not the work layered onto an over-full "
                    "plate: " + ", ".join(f"{p['name']} {p['champion_time_pct']}%" for p in programs) + "."
                ),
                evidence={
                    "program_id": row["id"],
                    "champion_id": row["customer_champion_id"],
                    "champion": champion,
                    "total_time_pct": total,
                    "max_time_pct": CHAMPION_MAX_TIME_PCT,
                    "programs": programs,
                },
                identity={
                    "champion_id": row["customer_champion_id"],
                    "programs": [(p["id"], p["champion_time_pct"]) for p in programs],
                },
            )
        )
    return findings
