"""Flag and risk-factor evidence (JSON) rendered as readable, escaped HTML.

Evidence is written by the detectors for machines and people alike: snake_case keys,
ISO dates, ids, nested lists of revisions or sessions. Executives get the facts, labelled
in words; internal ids are left out (the links on the page lead to the subjects).
"""

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Words that read better spelled out than title-cased.
LABELS = {
    "as_of": "As of",
    "pct": "%",
    "ceo": "CEO",
    "id": "ID",
}
MAX_ROWS = 50


def label(key: str) -> str:
    words = [LABELS.get(w, w) for w in str(key).split("_")]
    text = " ".join(words).strip()
    return text[:1].upper() + text[1:]


def _hidden(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key.endswith("_ids")


def _scalar(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _list_of_dicts(items: list[dict]) -> SafeString:
    keys: list[str] = []
    for item in items[:MAX_ROWS]:
        keys += [k for k in item if k not in keys and not _hidden(k)]
    head = format_html_join("", '<th scope="col">{}</th>', ((label(k),) for k in keys))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((_render(item.get(k)),) for k in keys)),) for item in items[:MAX_ROWS]),
    )
    more = format_html('<p class="muted">and {} more</p>', len(items) - MAX_ROWS) if len(items) > MAX_ROWS else ""
    return format_html(
        '<table class="evidence-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}', head, body, more
    )


def _render(value: Any) -> SafeString | str:
    if isinstance(value, dict):
        items = [(k, v) for k, v in value.items() if not _hidden(k)]
        if not items:
            return "—"
        return format_html(
            '<dl class="evidence">{}</dl>',
            format_html_join("", "<div><dt>{}</dt><dd>{}</dd></div>", ((label(k), _render(v)) for k, v in items)),
        )
    if isinstance(value, list):
        if not value:
            return "none"
        if all(isinstance(v, dict) for v in value):
            return _list_of_dicts(value)
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(_scalar(v) for v in value)
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_render(v),) for v in value)))
    return _scalar(value)


def render_evidence(evidence: Any) -> SafeString:
    """Escaped HTML for any JSON evidence; an empty string when there is none."""
    if evidence in (None, {}, []):
        return mark_safe("")
    html = _render(evidence)
    return html if isinstance(html, SafeString) else format_html("{}", html)
