"""`manage.py seed_demo [--scale N] [--if-empty] [--reset] [--allow-production]`: demo and benchmark data."""

import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from accountability.scans import scan_organization
from demo import DEMO_CEO_USER, DEMO_OFFICE_USER, DEMO_ORG_SLUG
from demo.conversation import talk_about_flags
from demo.purge import purge_organizations
from demo.scale import build_scale
from demo.scale_base import SCALE_SLUG_PREFIX
from demo.spreadsheets import write_examples
from demo.story import build_demo
from programs.models import Organization


class Command(BaseCommand):
    help = (
        "Create the demo organization (Northwind Mutual: three programs whose histories trip every flag kind, "
        "and the office@demo / ceo@demo logins). --scale N adds about N×20 programs of benchmark data."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--scale", type=int, default=0, help="Also create about N×20 programs (N ≥ 1) in bulk.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the demo organization exists.")
        parser.add_argument("--reset", action="store_true", help="Delete the demo (and scale) data first, then seed.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run although DEBUG is off (creates logins with a known password: never on a real system).",
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (the data is reproducible).")
        parser.add_argument(
            "--scan-history",
            action="store_true",
            help="Replay the daily governance scan over the last six months of the demo, so the risk "
            "history and flag ages read as they would after months of use.",
        )

    def handle(
        self,
        *args,
        scale: int,
        if_empty: bool,
        reset: bool,
        allow_production: bool,
        seed: int,
        scan_history: bool,
        **options,
    ):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to seed demo data with DEBUG off: it creates logins with a known password. "
                "Pass --allow-production only on a throwaway system."
            )
        if scale < 0:
            raise CommandError("--scale must be 1 or more.")
        if reset and if_empty:
            # One keeps an existing demo, the other rebuilds it: either reading of both together
            # would silently ignore one of them.
            raise CommandError("--reset and --if-empty contradict each other: pass one of them.")
        exists = Organization.objects.filter(slug=DEMO_ORG_SLUG).exists()
        if exists and if_empty:
            self.stdout.write(f"The demo organization '{DEMO_ORG_SLUG}' exists: nothing to do (--if-empty).")
            return
        if exists and not reset:
            raise CommandError(
                f"The demo organization '{DEMO_ORG_SLUG}' already exists. Use --if-empty to keep it or --reset "
                "to rebuild it."
            )
        if reset:
            self._reset()

        started = time.monotonic()
        organization = build_demo(seed=seed)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {organization.name} ({organization.programs.count()} programs) "
                f"in {time.monotonic() - started:.1f} s. Logins: {DEMO_OFFICE_USER}, {DEMO_CEO_USER} "
                "(see `manage.py demo_logins`)."
            )
        )
        files = write_examples(organization, timezone.localdate())
        self.stdout.write(f"A spreadsheet to import (admin → Measurements → Import): {', '.join(map(str, files))}")
        if scan_history:
            self._replay_scans(organization)
            # Flags exist now: the CEO comments on one and hands it over, the office comments on another.
            touched = talk_about_flags(organization)
            self.stdout.write(f"  {len(touched)} flags commented on (one handed over) by the demo's CEO and office")
        if scale:
            started = time.monotonic()
            summary = build_scale(scale=scale, seed=seed, stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS(f"Scale {scale}: {summary} in {time.monotonic() - started:.1f} s."))

    # Scan dates, in days before today: monthly for half a year, then weekly.
    HISTORY_DAYS = (180, 150, 120, 90, 60, 30, 21, 14, 7)

    def _replay_scans(self, organization: Organization) -> None:
        """Scan the demo as of past dates, oldest first; today's scan is left to the caller."""

        today = timezone.localdate()
        for days in self.HISTORY_DAYS:
            run = scan_organization(organization=organization, as_of=today - timedelta(days=days))
            self.stdout.write(
                f"  replayed the scan of {run.as_of}: {run.raised} raised, {run.refreshed} refreshed, "
                f"{run.resolved} resolved"
            )

    def _reset(self) -> None:
        doomed = Organization.objects.filter(Q(slug=DEMO_ORG_SLUG) | Q(slug__startswith=SCALE_SLUG_PREFIX))
        names = list(doomed.values_list("name", flat=True))
        counts = purge_organizations(list(doomed.values_list("pk", flat=True)))
        if names:
            self.stdout.write(f"Deleted {', '.join(names)} ({sum(counts.values()):,} rows).")
