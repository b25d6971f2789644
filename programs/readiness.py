"""Readiness: the conditions a program must meet before it goes live.

The conditions span apps (forums live in `accountability`, metrics in `metrics`), yet
`programs` may not import either. So each app registers its own checks here, from its
AppConfig.ready(), as a boolean SQL expression over Program rows: one annotated query
answers readiness for a whole list of programs.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Expression


@dataclass(frozen=True)
class ReadinessCheck:
    code: str
    message: str
    order: int
    # Builds a boolean expression evaluated per Program row (may use OuterRef("pk")).
    expression: Callable[[], Expression]

    @property
    def annotation(self) -> str:
        return f"ready_{self.code}"


_CHECKS: dict[str, ReadinessCheck] = {}


def register(check: ReadinessCheck) -> None:
    _CHECKS[check.code] = check


def checks() -> list[ReadinessCheck]:
    return sorted(_CHECKS.values(), key=lambda c: c.order)


def unmet(values: dict) -> list[str]:
    """The unmet conditions' messages, given a row annotated by `with_readiness()`."""
    return [c.message for c in checks() if not values.get(c.annotation)]
