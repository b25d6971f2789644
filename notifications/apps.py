from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications and webhooks"

    def ready(self) -> None:
        # Subscribing here, not at import, is what keeps `accountability` unaware of us.
        from accountability import events

        from . import receivers

        events.flags_changed_signal.connect(receivers.on_flags_changed, dispatch_uid="notifications.flags_changed")
        events.flag_assigned_signal.connect(receivers.on_flag_assigned, dispatch_uid="notifications.flag_assigned")
        events.risk_level_changed_signal.connect(
            receivers.on_risk_level_changed, dispatch_uid="notifications.risk_level_changed"
        )
        events.nudges_found_signal.connect(receivers.on_nudges_found, dispatch_uid="notifications.nudges_found")
