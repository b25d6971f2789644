"""`python manage.py run_governance_scan [--org SLUG] [--as-of YYYY-MM-DD]`."""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accountability.locks import ScanLocked
from accountability.models import Flag
from accountability.scans import scan_organization
from programs.dates import check_scan_as_of
from programs.models import Organization

# Exactly the form the help names: `date.fromisoformat` also takes 20261130 and 2026-W48-1.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(value: str) -> dt.date:
    wrong_form = f"--as-of must be a date as YYYY-MM-DD, not {value!r}."
    if not ISO_DAY.fullmatch(value):
        raise CommandError(wrong_form)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:  # 2026-02-30
        raise CommandError(wrong_form) from None
    try:
        return check_scan_as_of(day)
    except ValidationError as refused:
        raise CommandError(f"--as-of: {' '.join(refused.messages)}")


class Command(BaseCommand):
    help = (
        "Run the governance scan synchronously (the same code the workers run) for one or every "
        "organization, and print what was raised, refreshed and resolved, and each program's risk."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", help="Only this organization (default: all).")
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="The scan date (default: today).")

    def handle(self, *args, org: str | None = None, as_of: str | None = None, **options) -> None:
        # None is "not given"; an empty value (`--as-of "$DAY"` with DAY unset) is a mistake,
        # not a request for today or for every organization.
        day = _date(as_of) if as_of is not None else timezone.localdate()
        if org is not None and not org.strip():
            raise CommandError("--org is empty: give an organization's slug, or leave --org out to scan all.")
        organizations = Organization.objects.order_by("name")
        if org is not None:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                known = ", ".join(Organization.objects.order_by("slug").values_list("slug", flat=True)[:20])
                raise CommandError(f"No organization with slug {org!r}. Known: {known or 'none'}.")
        failed = 0
        for organization in organizations:
            try:
                run = scan_organization(organization=organization, as_of=day)
            except ScanLocked as exc:
                failed += 1
                self.stderr.write(f"{organization.name} ({organization.slug}): skipped. {exc}")
                continue
            failed += run.status != "succeeded"
            self._report(organization, run)
        if failed:
            raise CommandError(f"{failed} organization scan(s) did not succeed; see above.")

    def _report(self, organization: Organization, run) -> None:
        result = run.sync_result
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            self.style.MIGRATE_HEADING(f"{organization.name} ({organization.slug})")
            + f" — scan #{run.pk} as of {run.as_of}: {run.status} in {seconds:.2f} s"
        )
        self.stdout.write(f"  {run.raised} raised, {run.refreshed} refreshed, {run.resolved} resolved")
        self.stdout.write("  time: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run.timings.items()))
        raised = (
            Flag.objects.filter(pk__in=result.raised_ids)
            .select_related("program")
            .order_by("program__name", "kind", "id")
        )
        for flag in raised:
            self.stdout.write(f"  + [{flag.severity}] {flag.kind} ({flag.program.name}): {flag.title}")
        for error in run.errors:
            program = f" (program {error['program_id']})" if error.get("program_id") else ""
            self.stdout.write(self.style.ERROR(f"  ! {error['where']}{program}: {error['error']}"))
        for assessment in sorted(run.assessments, key=lambda a: a.program.name):
            factors = ", ".join(f"{f['code']} {f['points']}" for f in assessment.factors) or "no factor"
            self.stdout.write(
                f"  risk {assessment.program.name}: {assessment.score}/100 {assessment.level} ({factors})"
            )
