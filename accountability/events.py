"""Events the flag lifecycle and the risk assessment emit, after commit.

`accountability.flags` and `accountability.risk` call these from
`transaction.on_commit`; the notifications module turns them into emails and webhook
deliveries.
"""

from .models import Flag, RiskAssessment


def flag_raised(flag: Flag) -> None:
    """A new flag was opened."""


def flag_escalated(flag: Flag, previous_severity: str) -> None:
    """A live flag's severity went up on a rescan."""


def flag_resolved(flag: Flag) -> None:
    """A flag was resolved (by a scan or a person)."""


def risk_level_changed(assessment: RiskAssessment, previous_level: str | None) -> None:
    """A program's early-bail risk level differs from its previous assessment's."""
