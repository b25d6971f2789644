"""Turn the domain's flag and risk events into emails and webhook deliveries.

Connected in `NotificationsConfig.ready()` to the signals of `accountability.events`,
which are sent after the change commits. Each receiver is cheap: it writes the pending
webhook deliveries (frozen payload, one event id) and queues Celery tasks; the HTTP
requests and the emails happen in the tasks. A receiver never raises (the transaction is
already committed, and an exception would stop the other after-commit callbacks): the
error is logged and the hourly sweep retries what was recorded.

Which event goes where (docs/webhooks.md):
- flag raised: webhook `flag.raised` (any severity, `previous_severity` null); email to
  owner and champion when high or critical.
- flag escalated: webhook `flag.raised` again with `previous_severity` set (the flag's
  severity was raised); email when the new severity is high or critical.
- flag resolved: webhook `flag.resolved`.
- risk level changed: webhook `risk.level_changed`.
"""

import logging
from collections.abc import Callable, Sequence

from accountability.models import Flag, RiskAssessment

from . import deliveries, emails, tasks, webhooks
from .choices import WebhookEvent

logger = logging.getLogger(__name__)


def _safely(what: str, fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # see the module docstring: never break the other on_commit callbacks
        logger.exception("notification for %s failed", what)


def _flag_webhook(flag: Flag, event: str, previous_severity: str | None = None, candidates=None) -> None:
    deliveries.enqueue_event(
        organization_id=flag.organization_id,
        event=event,
        data=lambda: webhooks.flag_data(flag, previous_severity=previous_severity),
        candidates=candidates,
    )


def _flag_email(flag: Flag, previous_severity: str | None) -> None:
    if emails.should_email(flag.severity, previous_severity):
        tasks.send_flag_email_task.delay(flag.id, flag.severity, previous_severity)


def on_flags_changed(
    sender,
    *,
    raised: Sequence[Flag] = (),
    escalated: Sequence[tuple[Flag, str]] = (),
    resolved: Sequence[Flag] = (),
    **kwargs,
) -> None:
    """Flag events in a batch: the organizations' webhooks are looked up once for the
    batch, not once per flag."""
    organization_ids = {f.organization_id for f in raised} | {f.organization_id for f in resolved}
    organization_ids |= {f.organization_id for f, _ in escalated}
    hooks: dict[int, list] = {}
    _safely("webhook lookup", lambda: hooks.update(deliveries.active_webhooks(organization_ids)))
    # `_safely` runs each lambda at once, so the loop variables they read are current.
    for flag in raised:
        candidates = hooks.get(flag.organization_id, [])
        _safely(
            f"flag {flag.pk} raised (webhook)",
            lambda: _flag_webhook(flag, WebhookEvent.FLAG_RAISED, candidates=candidates),  # noqa: B023
        )
        _safely(f"flag {flag.pk} raised (email)", lambda: _flag_email(flag, None))  # noqa: B023
    for flag, previous in escalated:
        candidates = hooks.get(flag.organization_id, [])
        _safely(
            f"flag {flag.pk} escalated (webhook)",
            lambda: _flag_webhook(flag, WebhookEvent.FLAG_RAISED, previous, candidates=candidates),  # noqa: B023
        )
        _safely(f"flag {flag.pk} escalated (email)", lambda: _flag_email(flag, previous))  # noqa: B023
    for flag in resolved:
        candidates = hooks.get(flag.organization_id, [])
        _safely(
            f"flag {flag.pk} resolved (webhook)",
            lambda: _flag_webhook(flag, WebhookEvent.FLAG_RESOLVED, candidates=candidates),  # noqa: B023
        )


def on_risk_level_changed(sender, *, changes: Sequence[tuple[RiskAssessment, str | None]], **kwargs) -> None:
    for assessment, previous_level in changes:
        _safely(
            f"risk assessment {assessment.pk} level changed (webhook)",
            lambda: deliveries.enqueue_event(
                organization_id=assessment.program.organization_id,  # noqa: B023
                event=WebhookEvent.RISK_LEVEL_CHANGED,
                data=lambda: webhooks.risk_data(assessment, previous_level=previous_level),  # noqa: B023
            ),
        )
