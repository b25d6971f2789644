"""The governance detectors of SPEC section 3 (all but `early_bail_risk`).

Each detector is `detect_<kind>(*, organization, as_of, program_ids=None) -> list[Finding]`:
a read-only function of the database and `as_of`, scanning only active/paused programs
of `organization`, with a fixed number of queries whatever the data size.
"""

import datetime as dt
from collections.abc import Callable, Collection

from programs.models import Organization

from ..findings import Finding
from .initiatives import detect_initiative_overdue, detect_initiative_stalled

DETECTORS: dict[str, Callable[..., list[Finding]]] = {
    "initiative_stalled": detect_initiative_stalled,
    "initiative_overdue": detect_initiative_overdue,
}


def run_detectors(
    *, organization: Organization, as_of: dt.date, program_ids: Collection[int] | None = None
) -> list[Finding]:
    """Every detector's findings for `organization` on `as_of`, in registry order. Read-only."""
    findings: list[Finding] = []
    for detector in DETECTORS.values():
        findings.extend(detector(organization=organization, as_of=as_of, program_ids=program_ids))
    return findings
