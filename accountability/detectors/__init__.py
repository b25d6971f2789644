"""The governance detectors of SPEC section 3 (all but `early_bail_risk`, which the risk assessment raises).

Each detector is `detect_<kind>(*, organization, as_of, program_ids=None) -> list[Finding]`:
a read-only function of the database and `as_of`, scanning only active/paused programs
of `organization` (optionally only `program_ids`; `commitment_breached` also looks at
programs cancelled in the last 365 days), with a fixed number of queries
whatever the data size. Safe to re-run: they write nothing. See docs/detectors.md.
"""

import datetime as dt
from collections.abc import Callable, Collection

from programs.models import Organization

from ..choices import FlagKind
from ..findings import Finding
from .actions import detect_action_overdue, detect_escalation_unresolved
from .commitment import detect_champion_overloaded, detect_commitment_breached
from .forums import (
    detect_forum_lapsed,
    detect_forum_sessions_cancelled,
    detect_sponsor_delegating,
    detect_sponsor_disengaged,
)
from .initiatives import detect_initiative_overdue, detect_initiative_stalled
from .meetings import detect_customer_agenda_deferred, detect_forum_attendance_falling
from .metrics import detect_kumbaya_metric, detect_metric_not_cascaded, detect_metric_stale, detect_metric_unowned
from .negotiated import detect_metric_negotiated_away
from .programs import detect_champion_not_officer, detect_no_business_outcome, detect_roadmap_unfunded

Detector = Callable[..., list[Finding]]

DETECTORS: dict[str, Detector] = {
    FlagKind.INITIATIVE_STALLED.value: detect_initiative_stalled,
    FlagKind.INITIATIVE_OVERDUE.value: detect_initiative_overdue,
    FlagKind.ACTION_OVERDUE.value: detect_action_overdue,
    FlagKind.ESCALATION_UNRESOLVED.value: detect_escalation_unresolved,
    FlagKind.METRIC_NEGOTIATED_AWAY.value: detect_metric_negotiated_away,
    FlagKind.METRIC_UNOWNED.value: detect_metric_unowned,
    FlagKind.METRIC_NOT_CASCADED.value: detect_metric_not_cascaded,
    FlagKind.METRIC_STALE.value: detect_metric_stale,
    FlagKind.NO_BUSINESS_OUTCOME.value: detect_no_business_outcome,
    FlagKind.CHAMPION_NOT_OFFICER.value: detect_champion_not_officer,
    FlagKind.ROADMAP_UNFUNDED.value: detect_roadmap_unfunded,
    FlagKind.FORUM_LAPSED.value: detect_forum_lapsed,
    FlagKind.FORUM_SESSIONS_CANCELLED.value: detect_forum_sessions_cancelled,
    FlagKind.CUSTOMER_AGENDA_DEFERRED.value: detect_customer_agenda_deferred,
    FlagKind.FORUM_ATTENDANCE_FALLING.value: detect_forum_attendance_falling,
    FlagKind.SPONSOR_DISENGAGED.value: detect_sponsor_disengaged,
    FlagKind.COMMITMENT_BREACHED.value: detect_commitment_breached,
    FlagKind.SPONSOR_DELEGATING.value: detect_sponsor_delegating,
    FlagKind.CHAMPION_OVERLOADED.value: detect_champion_overloaded,
    FlagKind.KUMBAYA_METRIC.value: detect_kumbaya_metric,
}


def run_detectors(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Every detector's findings for `organization` on `as_of`, in registry order. Read-only."""
    program_ids = None if program_ids is None else list(program_ids)
    findings: list[Finding] = []
    for detector in DETECTORS.values():
        findings.extend(detector(organization=organization, as_of=as_of, program_ids=program_ids))
    return findings


__all__ = ["DETECTORS", "Detector", "run_detectors"] + [f.__name__ for f in DETECTORS.values()]
