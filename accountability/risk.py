"""Early-bail risk (SPEC section 3): one scored RiskAssessment per scanned program.

Each factor of the spec's table is a small function of facts gathered set-wise for all
programs at once (a fixed number of queries whatever the organization's size). The
program's status, horizon, start, first results date, champion and champion time are
those on `as_of` (`Facts.programs`), so `--as-of` replays a past day as it stood. Weights
come from `settings.CXGOV_RISK_WEIGHTS`. Counting conventions are in docs/engine.md.
"""

import datetime as dt
import logging
from collections.abc import Collection

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction

from programs.choices import ProgramStatus
from programs.dates import add_months, local_date
from programs.models import Organization, Program

from . import events
from .choices import FlagKind, RiskLevel, SubjectType, risk_level
from .detectors.common import iso, scope_q
from .detectors.forums import sponsor_delegating
from .evidence_words import factor_label
from .findings import Finding
from .models import RiskAssessment
from .risk_facts import Facts, gather
from .selectors import FORUM_WINDOW_DAYS, risk_on

SPONSOR_MIN_HELD = 3  # as sponsor_disengaged: fewer held sessions say nothing about presence
SHORT_HORIZON_MONTHS = 36
CHAMPION_MIN_TIME_PCT = 50
EVIDENCE_LIST_MAX = 20  # long lists in evidence are cut to their latest items

logger = logging.getLogger(__name__)


def _weights() -> dict[str, int]:
    return settings.CXGOV_RISK_WEIGHTS


def _factor(code: str, points: int, evidence: dict) -> dict:
    return {"code": code, "points": int(points), "evidence": evidence}


# --- Factors ---------------------------------------------------------------------------------


def _factors(program: Program, facts: Facts) -> list[dict]:
    w = _weights()
    as_of = facts.as_of
    out: list[dict] = []
    pid = program.pk
    on = facts.programs[pid]  # the program's own fields as they stood on as_of

    if on.status == ProgramStatus.PAUSED:
        out.append(_factor("program_paused", w["program_paused"], {"status": on.status}))

    horizon = on.committed_horizon_months
    activation = facts.first_activation.get(pid)
    shortened = activation is not None and horizon < activation["committed_horizon_months"]
    if shortened:
        out.append(
            _factor(
                "horizon_shortened",
                w["horizon_shortened"],
                {
                    "committed_horizon_months": horizon,
                    "at_activation_months": activation["committed_horizon_months"],
                    "activated_on": iso(local_date(activation["at"])),
                },
            )
        )
    elif horizon < SHORT_HORIZON_MONTHS:
        out.append(
            _factor(
                "short_horizon",
                w["short_horizon"],
                {"committed_horizon_months": horizon, "minimum": SHORT_HORIZON_MONTHS},
            )
        )

    out.extend(_early_phase(on.started_on, as_of, w))

    presence = facts.presence.get(pid)
    if presence is not None and presence.held >= SPONSOR_MIN_HELD:
        points = _sponsor_absent_points(presence, w)
        if points:
            missed = [s for s in presence.sessions if not s["present"]]
            out.append(
                _factor(
                    "sponsor_absent",
                    points,
                    {
                        "sponsor_id": program.executive_sponsor_id,
                        "held": presence.held,
                        "present": presence.present,
                        "presence_pct": round(100 * presence.present / presence.held, 1),
                        "window_days": presence.window_days,
                        "missed": missed[-EVIDENCE_LIST_MAX:],
                    },
                )
            )

    cancelled, scheduled = facts.cancellation.get(pid, (0, 0))
    if scheduled and cancelled * 10 >= scheduled * 4:
        out.append(
            _factor(
                "forums_cancelled",
                w["forums_cancelled"],
                {
                    "cancelled_or_postponed": cancelled,
                    "scheduled": scheduled,
                    "cancelled_pct": round(100 * cancelled / scheduled, 1),
                    "window_days": FORUM_WINDOW_DAYS,
                },
            )
        )

    # The champion on as_of (the person's officer and active flags are as they are now).
    # As champion_not_officer: a champion who left (inactive) counts as missing.
    champion_id = on.customer_champion_id
    if champion_id is None or not on.champion_active or not on.champion_is_officer:
        reason = "missing" if champion_id is None else "inactive" if not on.champion_active else "not_officer"
        out.append(
            _factor("champion_weak", w["champion_weak_not_officer"], {"champion_id": champion_id, "reason": reason})
        )
    elif on.champion_time_pct < CHAMPION_MIN_TIME_PCT:
        out.append(
            _factor(
                "champion_weak",
                w["champion_weak_time"],
                {"champion_id": champion_id, "reason": "part_time", "champion_time_pct": on.champion_time_pct},
            )
        )

    if changes := facts.champion_changes.get(pid):
        out.append(_factor("champion_turnover", w["champion_turnover"], {"changes": changes[-EVIDENCE_LIST_MAX:]}))

    if cuts := facts.budget_cuts.get(pid):
        out.append(_factor("budget_cut", w["budget_cut"], {"cuts": cuts[-EVIDENCE_LIST_MAX:]}))

    if metric_ids := facts.negotiated.get(pid):
        points = min(w["metrics_negotiated_each"] * len(metric_ids), w["metrics_negotiated_max"])
        out.append(
            _factor("metrics_negotiated", points, {"open_flags": len(metric_ids), "metric_ids": sorted(metric_ids)})
        )

    stalled, in_flight = facts.stalled.get(pid, (0, 0))
    if in_flight and stalled * 10 >= in_flight * 3:
        out.append(
            _factor(
                "work_stalled",
                w["work_stalled"],
                {"stalled": stalled, "in_flight": in_flight, "stalled_pct": round(100 * stalled / in_flight, 1)},
            )
        )

    commitments = facts.commitment.get(pid, [])
    if len(commitments) == 2:
        latest, before = commitments
        # ≥ 15% below: latest ≤ 85% of the one before (a float tolerance for the stored mean × 20).
        if latest["score"] <= before["score"] * 0.85 + 1e-9:
            out.append(
                _factor(
                    "commitment_declining",
                    w["commitment_declining"],
                    {
                        "latest": {"assessed_on": iso(latest["assessed_on"]), "score": round(latest["score"], 1)},
                        "previous": {"assessed_on": iso(before["assessed_on"]), "score": round(before["score"], 1)},
                        "drop_pct": round(100 * (before["score"] - latest["score"]) / before["score"], 1),
                    },
                )
            )

    out.extend(_governance_v2_factors(program, facts, w))

    # A fact of the plan, not of the calendar: it counts before the start too.
    started, due = on.started_on, on.first_results_due_on
    if started and due and due < add_months(started, 12):
        out.append(
            _factor(
                "results_expected_early",
                w["results_expected_early"],
                {"started_on": iso(started), "first_results_due_on": iso(due), "minimum_months": 12},
            )
        )
    return out


def _early_phase(started_on: dt.date | None, as_of: dt.date, w: dict[str, int]) -> list[dict]:
    """`early_phase`: started ≤ 12 months before as_of → 10, ≤ 24 months → 5 (calendar months,
    `add_months`). A program that has not started by as_of (no start, or a start after it)
    is in no phase of its run yet: nothing."""
    if started_on is None or started_on > as_of:
        return []
    for months, weight in ((12, w["early_phase_12"]), (24, w["early_phase_24"])):
        if as_of <= add_months(started_on, months):
            return [_factor("early_phase", weight, {"started_on": iso(started_on), "within_months": months})]
    return []


def _sponsor_absent_points(presence, w: dict[str, int]) -> int:
    """sponsor_absent's points for ≥ 3 held sessions. Integer comparisons: 1 of 2 present is
    exactly 50%, which is not "under 50%"."""
    if presence.present * 2 < presence.held:
        return w["sponsor_absent_50"]
    if presence.present * 4 < presence.held * 3:
        return w["sponsor_absent_75"]
    return 0


def _sponsor_evidence_needed(presence) -> bool:
    """The programs whose sponsor sessions go into a factor's evidence (sponsor_absent or
    sponsor_delegating fires): the only ones whose session list is read."""
    return presence.held >= SPONSOR_MIN_HELD and (
        bool(_sponsor_absent_points(presence, _weights())) or sponsor_delegating(presence)
    )


def _governance_v2_factors(program: Program, facts: Facts, w: dict[str, int]) -> list[dict]:
    """commitment_breached (an open flag of that kind) and sponsor_delegating (that flag's condition)."""
    out = []
    flag = (facts.breached or {}).get(program.pk)
    if flag is not None:
        out.append(
            _factor(
                "commitment_breached",
                w["commitment_breached"],
                {"flag_id": flag["id"], "title": flag["title"], "since": iso(flag["first_detected_on"])},
            )
        )
    presence = facts.presence.get(program.pk)
    if presence is not None and sponsor_delegating(presence):
        delegated = [s for s in presence.sessions if s.get("delegated")]
        out.append(
            _factor(
                "sponsor_delegating",
                w["sponsor_delegating"],
                {
                    "sponsor_id": program.executive_sponsor_id,
                    "held": presence.held,
                    "delegated": presence.delegated,
                    "delegated_pct": round(100 * presence.delegated / presence.held, 1),
                    "window_days": presence.window_days,
                    "sessions": delegated[-EVIDENCE_LIST_MAX:],
                },
            )
        )
    return out


# --- The service -----------------------------------------------------------------------------


def _known_levels(program_ids: list[int], as_of: dt.date) -> dict[int, str]:
    """The level listeners were last told, per program: today's row if a scan wrote it, else the latest before."""
    return {pid: risk.level for pid, risk in risk_on(program_ids=program_ids, as_of=as_of).items()}


def _gather_isolated(
    organization: Organization, as_of: dt.date, programs: list[Program], failures: dict[int, Exception]
) -> dict[int, Facts]:
    """Facts per program: set-wise when it works, else program by program (each in a savepoint).

    The fallback only runs when the set-wise pass fails, so a scan pays it only on the day a
    program's data breaks a query; a program whose own gathering fails lands in `failures`.
    """
    ids = [p.pk for p in programs]
    try:
        with transaction.atomic():
            facts = gather(organization, as_of, programs, sessions_when=_sponsor_evidence_needed)
        return dict.fromkeys(ids, facts)
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        logger.warning("risk facts failed set-wise for organization %s; retrying program by program", organization.pk)
    out: dict[int, Facts] = {}
    for program in programs:
        try:
            with transaction.atomic():
                out[program.pk] = gather(organization, as_of, [program], sessions_when=_sponsor_evidence_needed)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            failures[program.pk] = exc
    return out


@transaction.atomic
def assess_risk(
    *,
    organization: Organization,
    as_of: dt.date,
    program_ids: Collection[int] | None = None,
    scan_run=None,
    failures: dict[int, Exception] | None = None,
) -> list[RiskAssessment]:
    """Score every scanned program of `organization` (or of `program_ids`) on `as_of`.

    Writes one RiskAssessment per program, upserted on (program, as_of): a rescan of the
    same day rewrites it. Score = sum of the factors' points, capped at 100; level from
    `risk_level`. Reads the `metric_negotiated_away` flags open on `as_of`, so call it after
    the scan's flags sync. Announces `risk_level_changed` in the transaction when the level
    differs from the last one recorded (a first assessment at `low` is not a change). Safe
    to re-run; a fixed number of queries whatever the number of programs.

    With `failures` (a dict), one program whose risk cannot be computed (e.g. a stored date
    the month arithmetic cannot handle) is left out, its exception recorded under its id,
    and the others are assessed; without it the first failure raises.
    """
    programs = list(
        Program.objects.filter(scope_q(organization, program_ids, prefix=""))
        .select_related("organization", "customer_champion")
        .order_by("id")
    )
    if not programs:
        return []
    isolate = failures is not None
    failures = {} if failures is None else failures
    if isolate:
        facts_of = _gather_isolated(organization, as_of, programs, failures)
    else:
        facts = gather(organization, as_of, programs, sessions_when=_sponsor_evidence_needed)
        facts_of = {p.pk: facts for p in programs}
    known = _known_levels(list(facts_of), as_of)

    assessments = []
    for program in programs:
        if program.pk not in facts_of:
            continue
        try:
            factors = _factors(program, facts_of[program.pk])
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # plain Python on loaded rows: nothing to roll back
            if not isolate:
                raise
            failures[program.pk] = exc
            continue
        score = min(100, sum(f["points"] for f in factors))
        assessments.append(
            RiskAssessment(
                program=program, as_of=as_of, score=score, level=risk_level(score), factors=factors, scan_run=scan_run
            )
        )
    if assessments:
        RiskAssessment.objects.bulk_create(
            assessments,
            update_conflicts=True,
            unique_fields=["program", "as_of"],
            update_fields=["score", "level", "factors", "scan_run"],
        )

    changed = []
    for assessment in assessments:
        previous = known.get(assessment.program_id)
        if assessment.level != previous and not (previous is None and assessment.level == RiskLevel.LOW):
            changed.append((assessment, previous))
    events.risk_level_changed(changed)  # in the transaction: its messages commit with it
    return assessments


def early_bail_findings(assessments: list[RiskAssessment]) -> list[Finding]:
    """An `early_bail_risk` finding for each assessment at level high or critical.

    Owner: the organization's CEO if set, else the program's sponsor. The fingerprint
    holds the level and the factor codes, so a dismissal lasts until one of those changes.
    """
    findings = []
    for a in assessments:
        if a.level not in (RiskLevel.HIGH, RiskLevel.CRITICAL):
            continue
        program = a.program
        codes = [f["code"] for f in a.factors]
        findings.append(
            Finding(
                kind=FlagKind.EARLY_BAIL_RISK,
                program_id=program.pk,
                subject_type=SubjectType.PROGRAM,
                subject_id=program.pk,
                severity=a.level,
                owner_id=program.organization.ceo_id or program.executive_sponsor_id,
                title=f"Program '{program.name}' is at {a.level} risk of being abandoned ({a.score}/100)",
                # In words, as every reader shows them (accountability.evidence): no factor codes.
                detail="Factors: " + "; ".join(f"{factor_label(f['code'])} (+{f['points']})" for f in a.factors) + ".",
                evidence={"as_of": iso(a.as_of), "score": a.score, "level": a.level, "factors": a.factors},
                identity={"level": a.level, "factors": sorted(codes)},
            )
        )
    return findings
