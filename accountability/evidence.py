"""Evidence in plain language: the one renderer every reader uses (SPEC §2, §5).

Detectors write evidence for machines and people alike: snake_case keys, codes, ISO
dates, ids. Executives and the office read it here as sentences with people's names,
dates ("12 Nov 2026") and money in the organization's currency, never codes, ids or
JSON. The dashboard, the flag emails and the admin's read-only fields all call this.

`EvidenceText` holds what the sentences need besides the evidence itself: the currency
and the names of the people the evidence refers to by id (a risk factor's sponsor, a
revision's old and new owner). `evidence_text(...)` reads those names in one query for
a whole page of flags, factors and revisions: no query per row.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from programs.models import Person
from programs.money import format_day, format_money

from .evidence_factors import FACTOR_SENTENCES
from .evidence_kinds import KIND_SENTENCES
from .evidence_words import dated_list, factor_label, looks_like_date, number, pct, quoted, word

# Keys whose value is a Person's id.
PERSON_KEYS = ("sponsor_id", "champion_id", "owner_id", "person_id", "granted_by_id", "raised_by_id", "raised_to_id")


METRIC_FIELD_LABELS = {
    "target": "target",
    "target_on": "target date",
    "incentive_weight": "incentive weight",
    "owner": "owner",
    "status": "status",
    "baseline": "baseline",
    "baseline_on": "baseline date",
    "direction": "direction",
    "unit": "unit",
    "level": "level",
    "kind": "kind",
}
DATE_FIELDS = ("target_on", "baseline_on")


def _collect_people(value: Any, out: set[int]) -> None:
    """Person ids anywhere in evidence (keys of PERSON_KEYS; a revision of `owner`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in PERSON_KEYS and isinstance(item, int) and not isinstance(item, bool):
                out.add(item)
            else:
                _collect_people(item, out)
        if value.get("field") == "owner":
            for key in ("old", "new", "old_value", "new_value"):
                if str(value.get(key) or "").isdigit():
                    out.add(int(value[key]))
    elif isinstance(value, list):
        for item in value:
            _collect_people(item, out)


@dataclass
class EvidenceText:
    """Sentences for evidence, risk factors, metric revisions and status changes."""

    currency: str = "EUR"
    people: dict[int, str] = field(default_factory=dict)

    # --- small words ---------------------------------------------------------------------
    def day(self, value: Any) -> str:
        return format_day(value)

    def money(self, value: Any) -> str:
        return format_money(value, self.currency)

    def person(self, person_id: Any, name: str | None = None, fallback: str = "someone") -> str:
        if name:
            return name
        if person_id is None or person_id == "":
            return fallback
        return self.people.get(int(person_id), fallback) if str(person_id).isdigit() else fallback

    # --- flags -----------------------------------------------------------------------------
    def flag(self, kind: str, evidence: Any) -> list[str]:
        """The sentences of one flag's evidence; [] when there is none."""
        if not evidence:
            return []
        if not isinstance(evidence, dict):
            return [self.value(evidence)]
        render = KIND_SENTENCES.get(str(kind))
        sentences = render(self, evidence) if render else self.generic(evidence)
        return [s for s in sentences if s]

    def generic(self, evidence: dict) -> list[str]:
        """Evidence of a kind without its own sentences: each fact labelled in words, ids left out."""
        out = []
        for key, value in evidence.items():
            if key == "id" or key.endswith(("_id", "_ids")) or value in (None, "", [], {}):
                continue
            out.append(f"{word(key).capitalize()}: {self.value(value, key)}.")
        return out

    def value(self, value: Any, key: str = "") -> str:
        """A value of unknown shape as words: dates, codes, numbers, nested facts."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | float):
            return number(value)
        if isinstance(value, str):
            if key.endswith(("_on", "date", "_at", "_from", "_to")) or looks_like_date(value):
                return self.day(value)
            if key.endswith("budget"):
                return self.money(value)
            return word(value) if value.replace("_", "").isalpha() and value.islower() else value
        if isinstance(value, dict):
            parts = [
                f"{word(k)} {self.value(v, k)}"
                for k, v in value.items()
                if k != "id" and not k.endswith(("_id", "_ids")) and v not in (None, "", [], {})
            ]
            return ", ".join(parts) or "—"
        if isinstance(value, list):
            return dated_list(self.value(v) for v in value) or "none"
        return str(value)

    # --- risk factors --------------------------------------------------------------------------
    def factor_label(self, code: str) -> str:
        return factor_label(code)

    def factor(self, factor: dict) -> str:
        """One risk factor's evidence as a sentence (its label and points are shown beside it)."""
        code, evidence = str(factor.get("code", "")), factor.get("evidence") or {}
        render = FACTOR_SENTENCES.get(code)
        if render is None:
            return " ".join(self.generic(evidence))
        return render(self, evidence)

    # --- metric revisions and status changes -------------------------------------------------------
    def metric_value(self, field_name: str, value: Any, unit: str = "") -> str:
        if value is None or value == "":
            return "none"
        if field_name == "owner":
            return self.person(value, fallback="a former owner")
        if field_name in DATE_FIELDS:
            return self.day(value)
        if field_name == "incentive_weight":
            return pct(value)
        if field_name in ("target", "baseline"):
            return f"{number(value)}{'%' if unit == '%' else (' ' + unit if unit else '')}"
        if field_name == "unit":
            return quoted(value)
        return word(value)

    def revision(
        self,
        *,
        field_name: str,
        old: Any,
        new: Any,
        reason: str = "",
        on: dt.date | dt.datetime | str | None = None,
        by: str | None = None,
        unit: str = "",
        approved_on: Any = None,
    ) -> str:
        """ "On 12 Nov 2026 Anna Berg changed the owner from Sam Cole to Lea Park: “reason”.\""""
        label = METRIC_FIELD_LABELS.get(field_name, word(field_name))
        who = f" {by}" if by else ""
        when = f"On {self.day(on)}{who} changed" if on else f"{by or 'Someone'} changed"
        text = f"{when} the {label} from {self.metric_value(field_name, old, unit)} to "
        text += f"{self.metric_value(field_name, new, unit)}"
        if approved_on:
            text += f", as decided at the session of {self.day(approved_on)}"
        return f"{text}: {quoted(reason)}." if reason else f"{text}."

    def status_change(
        self, *, old: str, new: str, reason: str = "", on: Any = None, by: str | None = None, what: str = "program"
    ) -> str:
        """ "On 9 Nov 2026 Harold Brandt moved the program from active to paused: “reason”.\""""
        who = f" {by}" if by else ""
        start = f"On {self.day(on)}{who} moved" if on else f"{by or 'Someone'} moved"
        text = f"{start} the {what} from {word(old) if old else 'nothing'} to {word(new)}"
        return f"{text}: {quoted(reason)}." if reason else f"{text}."


def evidence_text(
    *, currency: str | None, evidences: Iterable[Any] = (), person_ids: Iterable[int] = ()
) -> EvidenceText:
    """An EvidenceText for a page: the names of every person `evidences` (flag evidence,
    risk factors, revision dicts) refer to by id, plus `person_ids`, in one query."""
    ids: set[int] = {int(i) for i in person_ids if i is not None}
    for evidence in evidences:
        _collect_people(evidence, ids)
    people = dict(Person.objects.filter(pk__in=ids).values_list("id", "name")) if ids else {}
    return EvidenceText(currency=currency or "EUR", people=people)
