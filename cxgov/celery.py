"""The Celery app, configured from Django settings (namespace CELERY).

The whole beat schedule lives here, each entry with an `expires` so a backlog after an
outage does not run a day's scans twice.
"""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgov.settings")

app = Celery("cxgov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The monthly board pack composes reports and notifications in the project package.
app.autodiscover_tasks(["cxgov"], related_name="board_pack_delivery")


@app.on_after_configure.connect
def setup_periodic_tasks(sender: Celery, **kwargs) -> None:
    sender.conf.beat_schedule = {
        "daily-governance-scan": {
            "task": "accountability.tasks.scan_all_organizations_task",
            "schedule": crontab(hour=settings.CXGOV_SCAN_HOUR, minute=settings.CXGOV_SCAN_MINUTE),
            "options": {"expires": 6 * 3600},
        },
        # The outbox's safety net: every email and webhook delivery left unsent and due.
        "hourly-outbox-sweep": {
            "task": "notifications.tasks.sweep_outbox_task",
            "schedule": crontab(minute=15),
            "options": {"expires": 3000},
        },
        # Daily from settings.BOARD_PACK_DAY of the month; each recipient gets one pack a month.
        "monthly-board-pack": {
            "task": "cxgov.board_pack_delivery.deliver_all_board_packs_task",
            "schedule": crontab(hour=6, minute=30),
            "options": {"expires": 6 * 3600},
        },
        "weekly-digest": {
            "task": "notifications.tasks.send_weekly_digests_task",
            "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
            "options": {"expires": 6 * 3600},
        },
    }
