"""metric_negotiated_away's building blocks: one metric's guarded-field history around as_of,
the rule for when a forum's approval counts, and the shape of a reason in the evidence.

Values are read from the revisions as `metrics.services._as_text` wrote them (Decimals as
plain strings, dates ISO, incentive weights as integers, codes as they are).
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from metrics.choices import Direction
from metrics.selectors import in_force, revision_value
from metrics.services import _as_text
from programs.dates import local_date

from ..choices import SessionStatus
from .common import iso, step_down

WINDOW_DAYS = 365
# The guarded fields whose revisions the reasons read (baseline_on never makes a target easier).
FIELDS = ("target", "target_on", "incentive_weight", "status", "baseline", "direction", "unit", "level", "kind")


def number(value: Decimal | None) -> str | None:
    """A plain, normalised number for evidence ("66.1", not "66.1000" or "6.61E+1")."""
    return None if value is None else format(value.normalize(), "f")


def improvement(direction: str, baseline: Decimal, target: Decimal) -> Decimal:
    """How much better than the baseline the target asks for, in the better direction (negative: worse)."""
    return target - baseline if direction == Direction.INCREASE else baseline - target


# --- When a forum's approval counts ------------------------------------------------------


def approval(rev: dict) -> tuple[bool | None, str | None]:
    """Whether the session a revision names (`approved_in`) counts as a decision taken in
    the open, and why not. None when it names none.

    It counts only when the session was held, on or before the day of the change, in a
    forum of the metric's own program, with the program's sponsor present in person (a
    delegate does not count): a target loosened "in the forum" the sponsor skipped was not
    decided in the open. The revision row carries the session's facts (see
    `negotiated.REVISION_COLUMNS`).
    """
    if rev["approved_in_id"] is None:
        return None, None
    session_on, changed_on = local_date(rev["approved_in__scheduled_for"]), local_date(rev["changed_at"])
    why = []
    if rev["approved_in__status"] != SessionStatus.HELD:
        why.append(f"the session was {rev['approved_in__status']}, not held")
    if session_on > changed_on:
        why.append(f"the session ({iso(session_on)}) came after the change ({iso(changed_on)})")
    if rev["approved_in__forum__program_id"] != rev["metric__program_id"]:
        why.append("the session belongs to another program's forum")
    if rev["metric__program__executive_sponsor_id"] is None:
        why.append("the program has no sponsor to be present")
    elif not rev["sponsor_present"]:
        why.append(
            "the sponsor sent a delegate instead of coming"
            if rev["sponsor_delegated"]
            else "the sponsor was not present in person"
        )
    return not why, "; ".join(why) or None


def revision_evidence(rev: dict) -> dict:
    counted, why_not = approval(rev)
    return {
        "id": rev["id"],
        "field": rev["field"],
        "old": rev["old_value"],
        "new": rev["new_value"],
        "changed_at": rev["changed_at"].isoformat(),
        "reason": rev["reason"],
        "approved_in": rev["approved_in_id"],
        "approved_in_date": iso(local_date(rev["approved_in__scheduled_for"])),
        "approval_counted": counted,
        "approval_not_counted_because": why_not,
    }


def _approval_note(evidence: list[dict]) -> str | None:
    """Why the approval did not lower the reason, in one sentence (None when it did, or when
    no change named a session: there is nothing to explain then)."""
    if not any(r["approved_in"] for r in evidence):
        return None
    parts = []
    for r in evidence:
        changed_on = r["changed_at"][:10]
        if r["approved_in"] is None:
            parts.append(f"the change of {changed_on} names no forum session")
        elif not r["approval_counted"]:
            parts.append(f"the change of {changed_on}: {r['approval_not_counted_because']}")
    return "; ".join(parts) or None


def reason(code: str, severity: str, revisions: list[dict], **facts) -> dict:
    """A reason entry of the evidence; one severity step lower (never below low) when every
    revision behind it was decided in a forum whose approval counts (`approval`)."""
    evidence = [revision_evidence(r) for r in revisions]
    approved = bool(evidence) and all(r["approval_counted"] for r in evidence)
    return {
        "reason": code,
        "severity": step_down(severity) if approved else severity,
        "base_severity": severity,
        "approved_in_forum": approved,
        "approved_in_sessions": sorted({r["approved_in"] for r in evidence if r["approved_in"]}),
        "approval_note": None if approved else _approval_note(evidence),
        "revisions": evidence,
        **facts,
    }


# --- One metric's history ----------------------------------------------------------------


class History:
    """One metric's guarded-field history around as_of: the revisions in the window (up to
    as_of) and those made after it, per field, oldest first."""

    def __init__(self, metric: dict, revisions: list[dict], as_of: dt.date):
        self.metric = metric
        self.in_window: dict[str, list[dict]] = defaultdict(list)
        self.later: dict[str, list[dict]] = defaultdict(list)
        for rev in revisions:  # ordered by changed_at, id
            bucket = self.in_window if local_date(rev["changed_at"]) <= as_of else self.later
            bucket[rev["field"]].append(rev)

    def on_as_of(self, field: str) -> str | None:
        """The field's value in force on as_of, as revision text (`metrics.selectors.in_force`)."""
        return in_force(_as_text(self.metric[field]), self.later.get(field, []))

    def value(self, field: str):
        """The field's value in force on as_of, typed as the model field is (Decimal, date, int, code)."""
        later = self.later.get(field)
        return revision_value(field, later[0]["old_value"]) if later else self.metric[field]

    def at_start(self, field: str) -> str | None:
        revs = self.in_window.get(field)
        return revs[0]["old_value"] if revs else self.on_as_of(field)

    def reference(self, field: str) -> str | None:
        """The value to compare against: in force at the start of the window, or, when the
        field was empty then, the first value it was given in the window (set at 70 in March,
        cut to 60 in May is still a cut)."""
        start = self.at_start(field)
        if start not in (None, ""):
            return start
        return next((r["new_value"] for r in self.in_window.get(field, []) if r["new_value"] not in (None, "")), None)
