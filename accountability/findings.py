"""What a detector returns: one finding per (kind, subject) that needs someone to act."""

import hashlib
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    kind: str  # a FlagKind value
    program_id: int
    subject_type: str  # a SubjectType value
    subject_id: int
    severity: str  # a Severity value
    owner_id: int | None  # the Person who must act
    title: str
    detail: str = ""
    # The facts and dates behind it, JSON-serialisable (dates as ISO strings).
    evidence: dict = field(default_factory=dict)
    # The facts that define the condition, without counters that grow each day (days
    # overdue, age): a dismissed flag comes back only when these change. None = evidence.
    identity: dict | None = None
    # The escalation level a new flag starts at (an EscalationLevel): 3 when the board
    # contact must hear at once (a breached commitment, a CEO sponsor); written on raise only.
    escalation_level: int = 0

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.subject_type, self.subject_id)

    @property
    def fingerprint(self) -> str:
        facts = self.evidence if self.identity is None else self.identity
        return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()
