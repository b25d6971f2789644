"""Sentences for each flag kind's evidence (the keys its detector writes).

Each function takes the page's `EvidenceText` (`t`: names, currency, dates) and one
flag's evidence dict, and returns sentences. Keys may be missing in old evidence: every
lookup is `.get`, and a missing fact leaves its clause out rather than printing "None".
"""

from .evidence_words import dated_list, days, number, pct, quoted, ratio_pct, word


def _session_status(t, s: dict) -> str:
    return f"{t.day(s.get('date'))} {word(s.get('status'))}"


def _sessions(t, sessions, label: str = "Recent sessions") -> str:
    if not sessions:
        return ""
    return f"{label}: {dated_list(_session_status(t, s) for s in sessions)}."


def initiative_stalled(t, e: dict) -> list[str]:
    last = e.get("last_update_on")
    since = f"its last progress update on {t.day(last)}" if last else f"it started on {t.day(e.get('starts_on'))}"
    return [
        f"“{e.get('initiative')}” ({word(e.get('status'))}) has had no activity for "
        f"{days(e.get('days_since_activity'))}, since {since}.",
        f"The program allows {days(e.get('stall_after_days'))} of silence; after {days(e.get('high_after_days'))} "
        "the flag is high.",
    ]


def initiative_overdue(t, e: dict) -> list[str]:
    return [
        f"“{e.get('initiative')}” was due on {t.day(e.get('due_on'))} and is {days(e.get('days_overdue'))} late, "
        f"{pct(e.get('percent_complete'))} complete ({word(e.get('status'))}).",
    ]


def action_overdue(t, e: dict) -> list[str]:
    out = [
        f"The action {quoted(e.get('description'))} was due on {t.day(e.get('due_on'))}: "
        f"{days(e.get('days_overdue'))} overdue."
    ]
    if e.get("session_date"):
        out.append(f"It was agreed at the session of {t.day(e.get('session_date'))}.")
    return out


def escalation_unresolved(t, e: dict) -> list[str]:
    subject = e.get("metric") or e.get("initiative")
    about = f" “{subject}”" if subject else ""
    return [
        f"{t.person(e.get('raised_by_id'), e.get('raised_by'))} escalated{about} to "
        f"{t.person(e.get('raised_to_id'), e.get('raised_to'))} on {t.day(e.get('raised_on'))}; "
        f"it has been open {days(e.get('days_open'))} without a decision "
        f"(the limit is {days(e.get('open_after_days'))}).",
    ]


def _revision(t, r: dict) -> str:
    text = t.revision(
        field_name=r.get("field", ""),
        old=r.get("old"),
        new=r.get("new"),
        reason=r.get("reason", ""),
        on=r.get("changed_at"),
        approved_on=r.get("approved_in_date") if r.get("approval_counted") is not False else None,
    )
    if r.get("approval_counted") is False and r.get("approved_in_date"):
        why = r.get("approval_not_counted_because") or "it does not count"
        text = text[:-1] + f" (decided at the session of {t.day(r['approved_in_date'])}, which does not count: {why})."
    return text


def _reason(t, r: dict) -> str:
    code = r.get("reason")
    if code == "target_loosened":
        text = (
            f"Target loosened from {number(r.get('target_at_start'))} to {number(r.get('target_now'))} "
            f"(baseline {number(r.get('baseline'))}, {word(r.get('direction'))})."
        )
    elif code == "deadline_extended":
        text = (
            f"Deadline moved from {t.day(r.get('target_on_at_start'))} to {t.day(r.get('target_on_now'))}, "
            f"{days(r.get('extended_by_days'))} later."
        )
    elif code == "retired_without_replacement":
        text = f"Retired on {t.day(r.get('retired_on'))} without a replacement."
    elif code == "incentive_weight_cut":
        text = f"Incentive weight cut from {pct(r.get('weight_at_start'))} to {pct(r.get('weight_now'))}."
    elif code == "exemption_granted":
        parts = []
        for x in r.get("exemptions") or []:
            until = f" until {t.day(x.get('ends_on'))}" if x.get("ends_on") else " with no end date"
            parts.append(
                f"{t.person(x.get('person_id'), x.get('person'))} excused from {t.day(x.get('starts_on'))}"
                f"{until} {quoted(x.get('reason'))}".rstrip()
            )
        text = f"Exemption granted: {dated_list(parts)}."
    elif code == "target_not_ambitious":
        text = (
            f"The target {number(r.get('target'))} asks for no improvement on the baseline "
            f"{number(r.get('baseline'))} ({word(r.get('direction'))})."
        )
    elif code == "baseline_moved":
        text = (
            f"Baseline moved from {number(r.get('baseline_at_start'))} to {number(r.get('baseline_now'))}: "
            f"the target {number(r.get('target'))} now asks for an improvement of "
            f"{number(r.get('improvement_asked_now'))} instead of {number(r.get('improvement_asked_then'))}."
        )
    elif code == "redefined":
        changes = [
            f"{word(c.get('field'))} from {quoted(c.get('from'))} to {quoted(c.get('to'))}"
            for c in r.get("changes") or []
        ]
        text = f"Redefined: {dated_list(changes)}; its history no longer compares."
    elif code == "replaced_by_easier":
        text = (
            f"Retired on {t.day(r.get('retired_on'))} for “{r.get('replaced_by')}”, "
            f"{'a weaker ' + word(r.get('replacement_kind')) + ' metric' if r.get('weaker_kind') else 'a metric'} "
            f"that asks for {pct(r.get('replacement_improvement_asked_pct'))} improvement instead of "
            f"{pct(r.get('improvement_asked_pct'))}."
        )
    else:
        text = f"{word(code).capitalize()}."
    text = f"{text[:-1]} ({word(r.get('severity'))})."
    revisions = [_revision(t, rev) for rev in r.get("revisions") or []]
    return " ".join([text, *revisions])


def metric_negotiated_away(t, e: dict) -> list[str]:
    return [
        f"Between {t.day(e.get('window_from'))} and {t.day(e.get('window_to'))}, “{e.get('metric')}” "
        f"({word(e.get('level'))}, {word(e.get('kind'))}) was made easier to meet:",
        *(_reason(t, r) for r in e.get("reasons") or []),
    ]


def metric_unowned(t, e: dict) -> list[str]:
    if e.get("owner_id") or e.get("owner"):
        return [
            f"“{e.get('metric')}” is owned by {t.person(e.get('owner_id'), e.get('owner'))}, who is no longer active."
        ]
    return [f"“{e.get('metric')}” ({word(e.get('level'))}, {word(e.get('kind'))}) has no owner."]


def metric_not_cascaded(t, e: dict) -> list[str]:
    tactical = len(e.get("active_tactical_descendant_ids") or [])
    return [
        f"“{e.get('metric')}” has {tactical or 'no'} active tactical metric{'s' if tactical != 1 else ''} "
        "and no active operational metric under it: nobody's daily work moves it."
    ]


def metric_stale(t, e: dict) -> list[str]:
    latest, created = e.get("latest_period_end"), e.get("created_on")
    if latest:
        last = f"; its latest value is for {t.day(latest)}"
    elif created:
        last = f"; it has had no value since it was created on {t.day(created)}"
    else:
        last = "; it has no recent value"
    cadence = f" is reported {word(e['reporting_cadence'])}" if e.get("reporting_cadence") else " is not measured"
    out = [f"“{e.get('metric')}”{cadence}{last}, {days(e.get('days_since'))} ago."]
    if e.get("low_after_days") is not None and e.get("medium_after_days") is not None:
        out.append(
            f"It is flagged low after {days(e['low_after_days'])} and medium after {days(e['medium_after_days'])}."
        )
    return out


def no_business_outcome(t, e: dict) -> list[str]:
    out = [f"“{e.get('program')}” has no active strategic outcome metric (revenue, retention, cost or risk)."]
    if e.get("business_case"):
        out.append(f"Its business case: {quoted(e.get('business_case'))}.")
    return out


def champion_not_officer(t, e: dict) -> list[str]:
    if not e.get("champion_id") and not e.get("champion"):
        return [f"“{e.get('program')}” has no customer champion."]
    name = t.person(e.get("champion_id"), e.get("champion"))
    title = f" ({e['champion_title']})" if e.get("champion_title") else ""
    problems = []
    if e.get("champion_active") is False:
        problems.append("has left the organization")
    if e.get("champion_is_officer") is False:
        problems.append("is not an officer")
    time, minimum = e.get("champion_time_pct"), e.get("min_time_pct")
    if time is not None and minimum is not None and time < minimum:
        problems.append(f"gives the program {pct(time)} of their time (at least {pct(minimum)} is needed)")
    return [f"The customer champion, {name}{title}, {' and '.join(problems) or 'does not qualify'}."]


def roadmap_unfunded(t, e: dict) -> list[str]:
    return [
        f"Stage {number(e.get('sequence'))}, “{e.get('stage')}” ({word(e.get('status'))}), starts on "
        f"{t.day(e.get('starts_on'))}, within {days(e.get('lookahead_days'))}, and has no budget."
    ]


def forum_lapsed(t, e: dict) -> list[str]:
    last = e.get("last_held_on")
    held = (
        f"its last held session was on {t.day(last)}, {days(e.get('days_since'))} ago"
        if last
        else f"it has held no session since it started on {t.day(e.get('started_on'))}"
    )
    return [f"“{e.get('forum')}” meets {word(e.get('cadence'))}; {held}.", _sessions(t, e.get("sessions"))]


def forum_sessions_cancelled(t, e: dict) -> list[str]:
    return [
        f"{number(e.get('cancelled_or_postponed'))} of the last {number(e.get('of_last'))} sessions of "
        f"“{e.get('forum')}” were cancelled or postponed.",
        _sessions(t, e.get("sessions"), "Sessions"),
    ]


def customer_agenda_deferred(t, e: dict) -> list[str]:
    out = [
        f"“{e.get('forum')}” put off its customer items at {number(len(e.get('sessions') or []))} sessions in a row:"
    ]
    for s in e.get("sessions") or []:
        items = ", ".join(f"“{i.get('title')}” {word(i.get('outcome'))}" for i in s.get("deferred_items") or [])
        out.append(f"{t.day(s.get('date'))}: {items or 'no customer item discussed'}.")
    return out


def forum_attendance_falling(t, e: dict) -> list[str]:
    def listed(sessions):
        return dated_list(f"{t.day(s.get('date'))} {number(s.get('present'))} present" for s in sessions or [])

    return [
        f"Attendance at “{e.get('forum')}” fell from {number(e.get('first_average'))} members on average at its "
        f"first sessions to {number(e.get('last_average'))} at its latest ({ratio_pct(e.get('ratio'))} of it; "
        f"the limit is {ratio_pct(e.get('threshold_ratio'))}).",
        f"First sessions: {listed(e.get('first_sessions'))}.",
        f"Latest sessions: {listed(e.get('last_sessions'))}.",
    ]


def _sponsor_sessions(t, sessions, want) -> str:
    return dated_list(f"{t.day(s.get('date'))} ({s.get('forum')})" for s in sessions or [] if want(s))


def sponsor_disengaged(t, e: dict) -> list[str]:
    missed = _sponsor_sessions(t, e.get("sessions"), lambda s: not s.get("present"))
    return [
        f"{t.person(e.get('sponsor_id'), e.get('sponsor'))} attended {number(e.get('present'))} of the "
        f"{number(e.get('held'))} held forum sessions between {t.day(e.get('window_from'))} and "
        f"{t.day(e.get('window_to'))} ({ratio_pct(e.get('ratio'))}; at least {ratio_pct(e.get('threshold_ratio'))} "
        "is expected).",
        f"Missed: {missed}." if missed else "",
    ]


def sponsor_delegating(t, e: dict) -> list[str]:
    sent = _sponsor_sessions(t, e.get("sessions"), lambda s: s.get("delegated"))
    return [
        f"{t.person(e.get('sponsor_id'), e.get('sponsor'))} sent a delegate to {number(e.get('delegated'))} of "
        f"the {number(e.get('held'))} held forum sessions between {t.day(e.get('window_from'))} and "
        f"{t.day(e.get('window_to'))}, and came in person to {number(e.get('present'))}.",
        f"Delegate sent: {sent}." if sent else "",
    ]


def early_bail_risk(t, e: dict) -> list[str]:
    out = [f"Early-bail risk on {t.day(e.get('as_of'))}: {number(e.get('score'))} out of 100 ({word(e.get('level'))})."]
    for f in sorted(e.get("factors") or [], key=lambda f: -(f.get("points") or 0)):
        out.append(f"{t.factor_label(str(f.get('code')))} (+{number(f.get('points'))}): {t.factor(f)}")
    return out


def commitment_breached(t, e: dict) -> list[str]:
    out = [
        f"“{e.get('program')}”, sponsored by {t.person(e.get('sponsor_id'), e.get('sponsor'))}, was committed "
        f"until its earliest review on {t.day(e.get('earliest_review_on'))}."
    ]
    for b in e.get("breaches") or []:
        if b.get("what") == "horizon_shortened":
            for c in b.get("cuts") or []:
                out.append(
                    f"Its horizon was cut from {number(c.get('from_months'))} to {number(c.get('to_months'))} "
                    f"months on {t.day(c.get('on'))}, {days(c.get('days_before_review'))} before the review"
                    f"{': ' + quoted(c.get('reason')) if c.get('reason') else ''}."
                )
        else:
            out.append(
                f"It was {word(b.get('what'))} on {t.day(b.get('on'))}, "
                f"{days(b.get('days_before_review'))} before the review"
                f"{': ' + quoted(b.get('reason')) if b.get('reason') else ''}."
            )
    if e.get("exit_criteria"):
        out.append(f"The exit criteria agreed at launch: {quoted(e.get('exit_criteria'))}.")
    return out


def champion_overloaded(t, e: dict) -> list[str]:
    programs = dated_list(
        f"“{p.get('name')}” {pct(p.get('champion_time_pct'))} ({word(p.get('status'))})"
        for p in e.get("programs") or []
    )
    return [
        f"{t.person(e.get('champion_id'), e.get('champion'))} is promised to programs for "
        f"{pct(e.get('total_time_pct'))} of their time, more than {pct(e.get('max_time_pct'))}: {programs}."
    ]


def kumbaya_metric(t, e: dict) -> list[str]:
    chain = [f"“{a.get('name')}” ({word(a.get('kind'))}, {word(a.get('status'))})" for a in e.get("ancestors") or []]
    above = f" Above it: {dated_list(chain)}." if chain else " Nothing is above it."
    return [f"“{e.get('metric')}” is a {word(e.get('kind'))} metric tied to no business outcome.{above}"]


KIND_SENTENCES = {
    "initiative_stalled": initiative_stalled,
    "initiative_overdue": initiative_overdue,
    "action_overdue": action_overdue,
    "escalation_unresolved": escalation_unresolved,
    "metric_negotiated_away": metric_negotiated_away,
    "metric_unowned": metric_unowned,
    "metric_not_cascaded": metric_not_cascaded,
    "metric_stale": metric_stale,
    "no_business_outcome": no_business_outcome,
    "champion_not_officer": champion_not_officer,
    "roadmap_unfunded": roadmap_unfunded,
    "forum_lapsed": forum_lapsed,
    "forum_sessions_cancelled": forum_sessions_cancelled,
    "customer_agenda_deferred": customer_agenda_deferred,
    "forum_attendance_falling": forum_attendance_falling,
    "sponsor_disengaged": sponsor_disengaged,
    "sponsor_delegating": sponsor_delegating,
    "early_bail_risk": early_bail_risk,
    "commitment_breached": commitment_breached,
    "champion_overloaded": champion_overloaded,
    "kumbaya_metric": kumbaya_metric,
}
