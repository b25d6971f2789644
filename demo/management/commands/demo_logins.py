"""`manage.py demo_logins`: where the demo runs and how to sign in (local demo only)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from demo import DEMO_CEO_USER, DEMO_OFFICE_USER, DEMO_PASSWORD


class Command(BaseCommand):
    help = "Print the demo URL and the two demo logins (only with DEBUG on: they do not exist in production)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: demo logins do not exist in production. Create real users instead.")
            return
        site = settings.SITE_URL.rstrip("/")
        existing = set(
            get_user_model()
            .objects.filter(username__in=[DEMO_OFFICE_USER, DEMO_CEO_USER])
            .values_list("username", flat=True)
        )
        if not existing:
            self.stdout.write("No demo logins yet: run `python manage.py seed_demo` first.")
            return
        self.stdout.write(self.style.SUCCESS(f"cxgov demo: {site}/dashboard/  (admin: {site}/admin/)"))
        for username, what in (
            (DEMO_CEO_USER, "executive: the accountability dashboard, read-only admin"),
            (DEMO_OFFICE_USER, "program office: edits everything in the admin"),
        ):
            if username in existing:
                self.stdout.write(f"  {username:<12} password: {DEMO_PASSWORD:<16} {what}")
        self.stdout.write(f"  board pack: {site}/dashboard/board-pack.pdf · calendar feeds: {site}/dashboard/calendar/")
