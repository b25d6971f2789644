"""Turn the domain's flag and risk events into outbox rows: webhook deliveries and emails.

Connected in `NotificationsConfig.ready()` to the signals of `accountability.events`,
which are sent inside the transaction of the change. The receivers write the rows in
that same transaction (an outbox: they commit with the change or vanish with it) and
queue the send tasks on commit; no HTTP request or email happens here. An error here
rolls the change back rather than losing its messages.

Which event goes where (docs/webhooks.md):
- flag raised at high or critical: webhook `flag.raised` (`previous_severity` null) and
  email to owner and champion. Low and medium: no webhook; an email only to those of the
  two who chose one for each (`Person.low_medium_emails`).
- flag escalated (its severity went up on a rescan) to high or critical: webhook
  `flag.raised` again with `previous_severity` set, and the email; to low or medium, as a
  low or medium flag raised. One rule decides both the webhook and the email
  (`emails.announced`, SPEC section 4: "a new or escalated flag of severity high or
  critical").
- flag resolved: webhook `flag.resolved`, whatever its severity (a low or medium one too,
  though no `flag.raised` announced it).
- flag climbed the escalation ladder: webhook `flag.escalated` (with the level and the
  person now told); email to that person, once per flag and level.
- flag raised above level 0 (a breached commitment, a CEO sponsor: SPEC section 3): the
  person of its starting level is told at once, as by a climb from the owner.
- risk level changed: webhook `risk.level_changed`.

A batch costs a fixed number of queries whatever its size: one for the organizations'
webhooks when an event may reach them, and when someone is to hear of it two for the
flags' programs and owners, one insert of deliveries, and two for the emails.
"""

from collections.abc import Iterable, Sequence

from accountability.choices import EscalationLevel
from accountability.escalation import escalated_to
from accountability.models import Flag, RiskAssessment
from programs.models import Person, Program

from . import deliveries, emails, webhooks
from . import nudges as nudge_emails
from .choices import WebhookEvent


def _with_people(flags: Iterable[Flag]) -> None:
    """Load what the messages name onto the flags as the sender holds them (written in this
    transaction): program with champion, organization, owner. Two queries for any number of
    flags; reloading the flags themselves would read every evidence document again."""
    flags = list(flags)
    programs = Program.objects.select_related("customer_champion", "organization").in_bulk(
        {flag.program_id for flag in flags}
    )
    owners = Person.objects.in_bulk({flag.owner_id for flag in flags if flag.owner_id})
    for flag in flags:
        flag.program = programs[flag.program_id]
        flag.organization = flag.program.organization
        flag.owner = owners.get(flag.owner_id)


def on_flags_changed(
    sender,
    *,
    raised: Sequence[Flag] = (),
    escalated: Sequence[tuple[Flag, str]] = (),
    resolved: Sequence[Flag] = (),
    climbed: Sequence[tuple[Flag, int, Person]] = (),
    **kwargs,
) -> None:
    """Write the deliveries and emails of a batch of flag events (a scan's, or a person's move)."""
    climbed = [*climbed, *_started_above_owner(raised)]
    if climbed:
        _on_climbed(climbed)
    if not (raised or escalated or resolved):
        return
    rises = [(flag, None) for flag in raised] + list(escalated)
    # Low and medium too: flag_alert keeps them to people who chose an email for each.
    alerts = [(flag, previous) for flag, previous in rises if emails.may_email(flag.severity, previous)]
    # The webhooks hear of a rise only when everyone is told (high or critical), by the
    # email's own rule; every resolution is sent.
    changes = [
        (flag, WebhookEvent.FLAG_RAISED, previous)
        for flag, previous in rises
        if emails.announced(flag.severity, previous)
    ]
    changes += [(flag, WebhookEvent.FLAG_RESOLVED, None) for flag in resolved]
    hooks = deliveries.active_webhooks({flag.organization_id for flag, _, _ in changes})
    heard = [change for change in changes if deliveries.listening(hooks, change[0].organization_id, change[1])]
    if not heard and not alerts:
        return
    _with_people([flag for flag, _, _ in heard] + [flag for flag, _ in alerts])
    deliveries.record_events(
        [
            deliveries.Event(flag.organization_id, event, webhooks.flag_data(flag, previous_severity=previous))
            for flag, event, previous in heard
        ],
        hooks,
    )
    emails.write_flag_alerts(alerts)


def _started_above_owner(raised: Sequence[Flag]) -> list[tuple[Flag, int, Person]]:
    """The flags raised at a level above the owner, each with the person of that level (a
    climb from level 0 made at once). Nobody there (no board contact, an inactive one, or
    the owner themself): nobody more to tell. One query for the batch's ladder people, and
    the two of `_with_people`, only when such a flag is raised."""
    started = [flag for flag in raised if flag.escalation_level]
    if not started:
        return []
    _with_people(started)
    owners = [flag.owner for flag in started if flag.owner]
    ladder = Person.objects.in_bulk(
        {owner.reports_to_id for owner in owners}
        | {flag.program.executive_sponsor_id for flag in started}
        | {flag.organization.board_contact_id for flag in started}
    )
    for owner in owners:
        owner.reports_to = ladder.get(owner.reports_to_id)
    for flag in started:
        flag.program.executive_sponsor = ladder.get(flag.program.executive_sponsor_id)
        flag.organization.board_contact = ladder.get(flag.organization.board_contact_id)
    return [(flag, EscalationLevel.OWNER, person) for flag in started if (person := escalated_to(flag))]


def on_flag_assigned(sender, *, flag: Flag, previous_owner, comment, **kwargs) -> None:
    """Tell the flag's new owner by email (an outbox row, in the transaction of the move)."""
    _with_people([flag])
    emails.write_flag_assigned(flag, previous_owner=previous_owner, comment=comment)


def _on_climbed(climbed: Sequence[tuple[Flag, int, Person]]) -> None:
    """`flag.escalated` deliveries and the new person's email for each ladder climb. The
    flags come from the ladder with their owner and program loaded: no query but the
    webhooks and the writes."""
    hooks = deliveries.active_webhooks({flag.organization_id for flag, _, _ in climbed})
    deliveries.record_events(
        [
            deliveries.Event(
                flag.organization_id,
                WebhookEvent.FLAG_ESCALATED,
                webhooks.escalation_data(flag, previous_level=previous, person=person),
            )
            for flag, previous, person in climbed
            if deliveries.listening(hooks, flag.organization_id, WebhookEvent.FLAG_ESCALATED)
        ],
        hooks,
    )
    emails.write_escalation_alerts(climbed)


def on_risk_level_changed(sender, *, changes: Sequence[tuple[RiskAssessment, str | None]], **kwargs) -> None:
    """Write the `risk.level_changed` deliveries of (assessment, previous level) pairs."""
    hooks = deliveries.active_webhooks({assessment.program.organization_id for assessment, _ in changes})
    deliveries.record_events(
        [
            deliveries.Event(
                assessment.program.organization_id,
                WebhookEvent.RISK_LEVEL_CHANGED,
                webhooks.risk_data(assessment, previous_level=previous_level),
            )
            for assessment, previous_level in changes
            if deliveries.listening(hooks, assessment.program.organization_id, WebhookEvent.RISK_LEVEL_CHANGED)
        ],
        hooks,
    )


def on_nudges_found(sender, *, organization_id: int, nudges: Sequence, as_of, **kwargs) -> None:
    """Write each person's email of the day: new nudges (each told once) and, for those who
    chose a daily digest, the day's low and medium flags (`notifications.nudges`)."""
    nudge_emails.write_daily(organization_id, nudges, as_of)
