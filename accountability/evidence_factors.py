"""Sentences for each early-bail risk factor's evidence (the keys `accountability.risk` writes).

Each function takes the page's `EvidenceText` (`t`) and the factor's evidence dict and
returns one sentence; the factor's label and points are shown beside it by the reader.
"""

from .evidence_words import dated_list, days, number, pct

CHAMPION_REASONS = {
    "missing": "The program has no customer champion.",
    "inactive": "{name}, the customer champion, has left the organization.",
    "not_officer": "{name}, the customer champion, is not an officer.",
    "part_time": "{name}, the customer champion, gives the program {time} of their time, under 50%.",
}


def _sessions(t, sessions) -> str:
    return dated_list(f"{t.day(s.get('date'))} ({s.get('forum')})" for s in sessions or [])


def program_paused(t, e: dict) -> str:
    return "The program is paused."


def horizon_shortened(t, e: dict) -> str:
    return (
        f"The committed horizon is {number(e.get('committed_horizon_months'))} months, cut from the "
        f"{number(e.get('at_activation_months'))} agreed when the program was activated on "
        f"{t.day(e.get('activated_on'))}."
    )


def short_horizon(t, e: dict) -> str:
    return (
        f"The committed horizon is {number(e.get('committed_horizon_months'))} months, under "
        f"{number(e.get('minimum'))}."
    )


def early_phase(t, e: dict) -> str:
    return f"Started on {t.day(e.get('started_on'))}: within its first {number(e.get('within_months'))} months."


def sponsor_absent(t, e: dict) -> str:
    missed = _sessions(t, e.get("missed"))
    return (
        f"{t.person(e.get('sponsor_id'), fallback='The sponsor')} attended {number(e.get('present'))} of the "
        f"{number(e.get('held'))} held sessions in the last {days(e.get('window_days'))} "
        f"({pct(e.get('presence_pct'))}).{' Missed: ' + missed + '.' if missed else ''}"
    )


def forums_cancelled(t, e: dict) -> str:
    return (
        f"{number(e.get('cancelled_or_postponed'))} of the {number(e.get('scheduled'))} sessions due in the last "
        f"{days(e.get('window_days'))} were cancelled or postponed ({pct(e.get('cancelled_pct'))})."
    )


def champion_weak(t, e: dict) -> str:
    template = CHAMPION_REASONS.get(str(e.get("reason")), "The customer champion is weak.")
    return template.format(
        name=t.person(e.get("champion_id"), fallback="The champion"), time=pct(e.get("champion_time_pct"))
    )


def champion_turnover(t, e: dict) -> str:
    changes = [
        f"on {t.day(c.get('on'))} from {t.person(c.get('from'), c.get('from_name'), 'nobody')} to "
        f"{t.person(c.get('to'), c.get('to_name'), 'nobody')}"
        for c in e.get("changes") or []
    ]
    return f"The customer champion changed {dated_list(changes)}."


def budget_cut(t, e: dict) -> str:
    cuts = []
    for c in e.get("cuts") or []:
        what = (
            f"stage {number(c.get('sequence'))} “{c.get('stage')}”"
            if c.get("what") == "stage"
            else "the program's budget"
        )
        to = t.money(c.get("to")) if c.get("to") is not None else "nothing (unfunded)"
        cuts.append(f"{what} from {t.money(c.get('from'))} to {to} on {t.day(c.get('on'))}")
    return f"Cut: {dated_list(cuts)}."


def metrics_negotiated(t, e: dict) -> str:
    n = e.get("open_flags") or len(e.get("metric_ids") or [])
    return f"{number(n)} of the program's metrics {'has' if n == 1 else 'have'} an open “negotiated away” flag."


def work_stalled(t, e: dict) -> str:
    return (
        f"{number(e.get('stalled'))} of the {number(e.get('in_flight'))} initiatives in flight are stalled "
        f"({pct(e.get('stalled_pct'))})."
    )


def commitment_declining(t, e: dict) -> str:
    latest, previous = e.get("latest") or {}, e.get("previous") or {}
    return (
        f"The CEO commitment score fell from {number(previous.get('score'))} on "
        f"{t.day(previous.get('assessed_on'))} to {number(latest.get('score'))} on "
        f"{t.day(latest.get('assessed_on'))}, {pct(e.get('drop_pct'))} lower."
    )


def commitment_breached(t, e: dict) -> str:
    return f"The program broke its commitment before its earliest review; flagged since {t.day(e.get('since'))}."


def results_expected_early(t, e: dict) -> str:
    return (
        f"First results are due on {t.day(e.get('first_results_due_on'))}, less than "
        f"{number(e.get('minimum_months'))} months after the start on {t.day(e.get('started_on'))}."
    )


def sponsor_delegating(t, e: dict) -> str:
    sent = _sessions(t, e.get("sessions"))
    return (
        f"{t.person(e.get('sponsor_id'), fallback='The sponsor')} sent a delegate to "
        f"{number(e.get('delegated'))} of the {number(e.get('held'))} held sessions in the last "
        f"{days(e.get('window_days'))} ({pct(e.get('delegated_pct'))})."
        f"{' Delegate sent: ' + sent + '.' if sent else ''}"
    )


FACTOR_SENTENCES = {
    "program_paused": program_paused,
    "horizon_shortened": horizon_shortened,
    "short_horizon": short_horizon,
    "early_phase": early_phase,
    "sponsor_absent": sponsor_absent,
    "forums_cancelled": forums_cancelled,
    "champion_weak": champion_weak,
    "champion_turnover": champion_turnover,
    "budget_cut": budget_cut,
    "metrics_negotiated": metrics_negotiated,
    "work_stalled": work_stalled,
    "commitment_declining": commitment_declining,
    "commitment_breached": commitment_breached,
    "results_expected_early": results_expected_early,
    "sponsor_delegating": sponsor_delegating,
}
