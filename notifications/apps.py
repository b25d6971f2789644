from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and webhooks"

    def ready(self) -> None:
        # Subscribing here, not at import, is what keeps `accountability` unaware of us.
        from accountability import events

        # Importing the tasks registers them with Celery in every process (web, scan,
        # shell), not only in workers: the outbox queues them by name on commit, and in
        # eager mode an unregistered name would go to the in-memory broker, never to run.
        from . import receivers, tasks  # noqa: F401

        events.flags_changed_signal.connect(receivers.on_flags_changed, dispatch_uid="notifications.flags_changed")
        events.risk_level_changed_signal.connect(
            receivers.on_risk_level_changed, dispatch_uid="notifications.risk_level_changed"
        )
