"""Small words for the evidence sentences: codes as words, numbers, percentages, lists."""

from collections.abc import Iterable
from typing import Any

from metrics import choices as metric_choices
from metrics.selectors import parse_decimal
from programs import choices as program_choices

from . import choices

MAX_LISTED = 8  # longer lists of sessions are cut: "… and 4 more"


FACTOR_LABELS = {
    "program_paused": "Program paused",
    "horizon_shortened": "Horizon shortened since activation",
    "short_horizon": "Committed horizon under 36 months",
    "early_phase": "Early phase of the program",
    "sponsor_absent": "Sponsor absent from the forums",
    "forums_cancelled": "Forum sessions cancelled or postponed",
    "champion_weak": "Champion not an officer, or part-time",
    "champion_turnover": "Champion changed recently",
    "budget_cut": "Budget cut",
    "metrics_negotiated": "Metric targets negotiated away",
    "work_stalled": "Work stalled",
    "commitment_declining": "CEO commitment declining",
    "results_expected_early": "Results expected within the first year",
    "commitment_breached": "Commitment breached before the earliest review",
    "sponsor_delegating": "Sponsor sends a delegate to the forums",
}


def factor_label(code: str) -> str:
    return FACTOR_LABELS.get(code, word(code).capitalize())


def _vocabulary() -> dict[str, str]:
    """Every code of the domain's vocabularies → its label, lower-cased for use mid-sentence."""
    words: dict[str, str] = {}
    for module in (program_choices, metric_choices, choices):
        for obj in vars(module).values():
            if isinstance(obj, type) and hasattr(obj, "choices") and hasattr(obj, "values"):
                for value, label in obj.choices:
                    words.setdefault(str(value), str(label).lower())
    # Labels written for forms read long mid-sentence: the short words for a sentence.
    words.update(
        {
            "increase": "higher is better",
            "decrease": "lower is better",
            "outcome": "business outcome",
            "perception": "customer perception",
            "operational": "operational",
        }
    )
    return words


WORDS = _vocabulary()


def word(code: Any) -> str:
    """A code as words: "in_progress" → "in progress"; unknown codes lose their underscores."""
    if code is None or code == "":
        return "—"
    text = str(code)
    return WORDS.get(text, text.replace("_", " "))


def number(value: Any) -> str:
    """62.5000 → "62.5", 1234567 → "1,234,567"; anything else as it is."""
    if value is None or value == "":
        return "—"
    d = parse_decimal(value) if not isinstance(value, bool) else None
    if d is None:
        return str(value)
    return f"{d:,.2f}".rstrip("0").rstrip(".") if d != d.to_integral() else f"{d:,.0f}"


def pct(value: Any) -> str:
    return f"{number(value)}%"


def ratio_pct(value: Any) -> str:
    """0.458 → "46%"."""
    try:
        return f"{round(float(value) * 100)}%"
    except (TypeError, ValueError):
        return "—"


def days(n: Any) -> str:
    return "1 day" if n == 1 else f"{number(n)} days"


def quoted(text: Any) -> str:
    # The closing full stop is the sentence's, not the quotation's: no "….”." at the end.
    return f"“{str(text).strip().rstrip('.')}”" if text not in (None, "") else ""


def dated_list(items: Iterable[str]) -> str:
    items = list(items)
    shown = items[:MAX_LISTED]
    text = "; ".join(shown)
    return f"{text}; and {len(items) - len(shown)} more" if len(items) > len(shown) else text


def looks_like_date(value: str) -> bool:
    return len(value) in (10, 25, 32) and value[4:5] == "-" and value[7:8] == "-" and value[:4].isdigit()
