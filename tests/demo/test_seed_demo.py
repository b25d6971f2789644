"""seed_demo: the Northwind Mutual story trips every flag kind, the healthy program none."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from accountability.choices import FlagKind, RiskLevel
from accountability.models import Flag, RiskAssessment
from demo import DEMO_ORG_SLUG, HEALTHY_PROGRAM, PAUSED_PROGRAM, STRUGGLING_PROGRAM
from demo.story import build_demo
from programs.models import Organization


@pytest.fixture(autouse=True)
def _debug_and_fast_hashing(settings):
    settings.DEBUG = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db):
    return build_demo()


@pytest.mark.django_db
def test_demo_trips_every_flag_kind(demo):
    from accountability.scans import scan_organization

    today = timezone.localdate()
    run = scan_organization(organization=demo, as_of=today)
    assert run.errors == []
    flags = Flag.objects.filter(organization=demo).live().select_related("program")
    by_program: dict[str, set[str]] = {}
    for flag in flags:
        by_program.setdefault(flag.program.name, set()).add(flag.kind)
    raised = set().union(*by_program.values())
    assert len(FlagKind.values) == 21
    assert raised == set(FlagKind.values), f"missing: {set(FlagKind.values) - raised}"
    assert HEALTHY_PROGRAM not in by_program, by_program.get(HEALTHY_PROGRAM)
    risk = {a.program.name: a for a in RiskAssessment.objects.filter(program__organization=demo, as_of=today)}
    assert risk[HEALTHY_PROGRAM].level == RiskLevel.LOW, risk[HEALTHY_PROGRAM].factors
    assert risk[PAUSED_PROGRAM].level == RiskLevel.CRITICAL
    assert risk[STRUGGLING_PROGRAM].level in (RiskLevel.HIGH, RiskLevel.ELEVATED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day",
    # Days up to 2026-12-31: a scan refuses an as_of beyond today + 366 days (SPEC §2).
    [dt.date(2026, 1, 31), dt.date(2024, 2, 29), dt.date(2026, 3, 1), dt.date(2026, 12, 31), dt.date(2025, 7, 15)],
    ids=str,
)
def test_demo_story_holds_whatever_the_day(day):
    """Everything is placed relative to `today`: month ends and leap days must not break the story."""
    from accountability.scans import scan_organization

    organization = build_demo(today=day, users=False)
    scan_organization(organization=organization, as_of=day)
    flags = list(Flag.objects.filter(organization=organization).live().select_related("program"))
    assert {f.kind for f in flags} == set(FlagKind.values)
    assert [f.kind for f in flags if f.program.name == HEALTHY_PROGRAM] == []
    healthy = RiskAssessment.objects.get(program__name=HEALTHY_PROGRAM, as_of=day)
    assert (healthy.score, healthy.level) == (0, RiskLevel.LOW)


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_creates_the_organization_users_and_data_shapes():
    from accountability.models import ActionItem, AgendaItem, Attendance, Escalation, Forum, ForumSession
    from metrics.models import Exemption, Measurement, Metric, MetricRevision
    from programs.models import CommitmentAssessment, Initiative, ProgramStatusChange, ProgressUpdate, RoadmapStage

    output = seed()
    assert "Seeded Northwind Mutual (3 programs)" in output
    org = Organization.objects.get(slug=DEMO_ORG_SLUG)
    assert org.ceo.title == "Chief Executive Officer"
    assert set(org.programs.values_list("name", "status")) == {
        (HEALTHY_PROGRAM, "active"),
        (STRUGGLING_PROGRAM, "active"),
        (PAUSED_PROGRAM, "paused"),
    }
    assert org.programs.get(name=HEALTHY_PROGRAM).customer_champion.title == "Chief Customer Officer"
    assert set(org.business_units.values_list("name", flat=True)) >= {"Sales", "Operations", "Claims", "Digital"}
    assert org.people.count() >= 20

    User = get_user_model()
    office, ceo = User.objects.get(username="office@demo"), User.objects.get(username="ceo@demo")
    assert office.is_staff and office.check_password("northwind-demo")
    assert office.memberships.get().role == "office"
    assert ceo.memberships.get().role == "executive"
    assert ceo.people.get() == org.ceo

    scoped = {"program__organization": org}
    counts = {
        "stages": RoadmapStage.objects.filter(**scoped).count(),
        "initiatives": Initiative.objects.filter(**scoped).count(),
        "updates": ProgressUpdate.objects.filter(initiative__program__organization=org).count(),
        "metrics": Metric.objects.filter(**scoped).count(),
        "revisions": MetricRevision.objects.filter(metric__program__organization=org).count(),
        "exemptions": Exemption.objects.filter(metric__program__organization=org).count(),
        "forums": Forum.objects.filter(**scoped).count(),
        "sessions": ForumSession.objects.filter(forum__program__organization=org).count(),
        "attendance": Attendance.objects.filter(session__forum__program__organization=org).count(),
        "agenda": AgendaItem.objects.filter(session__forum__program__organization=org).count(),
        "actions": ActionItem.objects.filter(**scoped).count(),
        "escalations": Escalation.objects.filter(**scoped).count(),
        "assessments": CommitmentAssessment.objects.filter(**scoped).count(),
        "status changes": ProgramStatusChange.objects.filter(**scoped).count(),
    }
    minimums = {
        "stages": 10,
        "initiatives": 15,
        "updates": 40,
        "metrics": 20,
        "revisions": 8,
        "exemptions": 2,
        "forums": 4,
        "sessions": 60,
        "attendance": 300,
        "agenda": 100,
        "actions": 6,
        "escalations": 4,
        "assessments": 8,
        "status changes": 4,
    }
    assert {k: v for k, v in counts.items() if v < minimums[k]} == {}, counts

    # About two years of measurements, up to (not past) today.
    today = timezone.localdate()
    measurements = Measurement.objects.filter(metric__program__organization=org)
    first = measurements.order_by("period_end").first().period_end
    last = measurements.order_by("-period_end").first().period_end
    assert (today - first).days >= 700
    assert 0 < (today - last).days <= 7
    # The cascade: every program has outcome metrics at the top and operational ones below.
    assert Metric.objects.filter(**scoped, level="operational", parent__isnull=False).count() >= 10


@pytest.mark.django_db
def test_seed_demo_is_idempotent_with_if_empty():
    seed()
    before = (Organization.objects.count(), get_user_model().objects.count(), Flag.objects.count())
    output = seed("--if-empty")
    assert "nothing to do" in output
    assert (Organization.objects.count(), get_user_model().objects.count(), Flag.objects.count()) == before
    with pytest.raises(CommandError, match="already exists"):
        seed()


@pytest.mark.django_db
def test_seed_demo_reset_rebuilds():
    seed()
    first = Organization.objects.get(slug=DEMO_ORG_SLUG).pk
    output = seed("--reset")
    assert "Deleted Northwind Mutual" in output
    org = Organization.objects.get(slug=DEMO_ORG_SLUG)
    assert org.pk != first
    assert org.programs.count() == 3
    assert get_user_model().objects.get(username="office@demo").memberships.get().organization == org
    # Nothing of the first organization is left behind.
    from metrics.models import Measurement
    from programs.models import Person, Program

    assert Program.objects.count() == 3
    assert not Person.objects.exclude(organization=org).exists()
    assert not Measurement.objects.exclude(metric__program__organization=org).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        seed()
    assert not Organization.objects.exists()
    assert not get_user_model().objects.filter(username="office@demo").exists()


@pytest.mark.django_db
def test_seed_demo_allow_production_passes_the_guard(settings):
    build_demo(users=False)
    settings.DEBUG = False
    assert "nothing to do" in seed("--if-empty", "--allow-production")


def logins() -> str:
    out = StringIO()
    call_command("demo_logins", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_demo_logins_prints_url_and_logins():
    assert "run `python manage.py seed_demo` first" in logins()
    seed()
    output = logins()
    assert "http://127.0.0.1:8000/dashboard/" in output
    assert "office@demo" in output and "ceo@demo" in output
    assert output.count("northwind-demo") == 2


@pytest.mark.django_db
def test_demo_logins_say_they_do_not_exist_in_production(settings):
    settings.DEBUG = False
    output = logins()
    assert "do not exist in production" in output
    assert "northwind-demo" not in output


@pytest.mark.django_db
def test_scale_1_creates_about_20_programs():
    from accountability.models import ForumSession
    from metrics.models import Measurement, Metric
    from programs.models import Initiative, Program

    output = seed("--scale", "1")
    programs = Program.objects.filter(organization__slug__startswith="bench-")
    assert programs.count() == 20
    assert Organization.objects.filter(slug__startswith="bench-").count() == 2
    assert Initiative.objects.filter(program__in=programs).count() == 20 * 50
    assert Metric.objects.filter(program__in=programs).count() == 20 * 100
    assert 20 * 100 * 20 <= Measurement.objects.filter(metric__program__in=programs).count() <= 20 * 100 * 25
    assert 20 * 3 * 30 <= ForumSession.objects.filter(forum__program__in=programs).count() <= 20 * 3 * 60
    assert "Scale 1: 20 programs" in output
    assert Program.objects.filter(organization__slug=DEMO_ORG_SLUG).count() == 3
    assert_carried_organizations_match()


def assert_carried_organizations_match():
    """Every row that carries its organization (written in bulk by the seeders) holds its
    program's, and some of each exist: a list scoped by the column would hide the rest."""
    from django.db.models import F

    from accountability.models import AgendaItem, Attendance, ForumSession
    from metrics.models import Measurement
    from programs.models import ProgressUpdate
    from programs.scoping import program_path

    for model in (Measurement, ProgressUpdate, ForumSession, Attendance, AgendaItem):
        rows = model._base_manager.all()
        assert rows.exists(), model
        wrong = rows.exclude(organization_id=F(f"{program_path(model)}__organization_id"))
        assert not wrong.exists(), model


@pytest.mark.django_db
def test_scan_history_replays_six_months_then_today_still_trips_every_kind():
    from accountability.models import ScanRun
    from accountability.scans import scan_organization
    from demo.management.commands.seed_demo import Command

    out = StringIO()
    call_command("seed_demo", "--scan-history", stdout=out)
    demo = Organization.objects.get(slug=DEMO_ORG_SLUG)
    today = timezone.localdate()
    expected_dates = sorted(today - dt.timedelta(days=d) for d in Command.HISTORY_DAYS)
    assert sorted(ScanRun.objects.filter(organization=demo).values_list("as_of", flat=True)) == expected_dates
    for program in demo.programs.all():
        assert sorted(program.risk_assessments.values_list("as_of", flat=True)) == expected_dates
    assert out.getvalue().count("replayed the scan of") == len(Command.HISTORY_DAYS)

    scan_organization(organization=demo, as_of=today)
    live = Flag.objects.filter(organization=demo).live()
    assert set(live.values_list("kind", flat=True)) == set(FlagKind.values)
    assert not live.filter(program__name=HEALTHY_PROGRAM).exists()
    # Flags found before today keep the date they were first found.
    assert live.filter(first_detected_on__lt=today).exists()


@pytest.mark.django_db
def test_demo_shows_the_governance_v2_rules_with_their_owners_and_evidence(demo):
    from accountability.scans import scan_organization

    today = timezone.localdate()
    scan_organization(organization=demo, as_of=today)
    live = Flag.objects.filter(organization=demo).live().select_related("program", "owner")
    breached = live.get(kind=FlagKind.COMMITMENT_BREACHED)
    assert (breached.program.name, breached.owner.title, breached.escalation_level) == (
        PAUSED_PROGRAM,
        "Chief Financial Officer",
        3,
    )
    assert {b["what"] for b in breached.evidence["breaches"]} == {"paused", "horizon_shortened"}
    delegating = live.get(kind=FlagKind.SPONSOR_DELEGATING)
    assert (delegating.program.name, delegating.owner.title, delegating.escalation_level) == (
        STRUGGLING_PROGRAM,
        "Chief Operating Officer",
        0,
    )
    assert {f.program.name for f in live.filter(kind=FlagKind.CHAMPION_OVERLOADED)} == {
        STRUGGLING_PROGRAM,
        PAUSED_PROGRAM,
    }
    reasons = {r["reason"]: r for f in live.filter(kind=FlagKind.METRIC_NEGOTIATED_AWAY) for r in f.evidence["reasons"]}
    assert {"baseline_moved", "redefined", "replaced_by_easier"} <= set(reasons)
    # The baseline was restated at a steering meeting the COO attended: the approval counts.
    assert (reasons["baseline_moved"]["base_severity"], reasons["baseline_moved"]["severity"]) == ("medium", "low")
    # The callback deadline was "agreed" at a meeting the COO sent his deputy to: it does not.
    extended = reasons["deadline_extended"]
    assert (extended["severity"], extended["approved_in_forum"]) == ("high", False)
    assert "sent a delegate" in extended["approval_note"]
    for program in demo.programs.all():
        assert program.exit_criteria
        assert program.earliest_review_on is not None


def test_the_story_rows_carry_their_programs_organization(demo):
    assert_carried_organizations_match()


def test_nothing_the_demo_records_is_dated_in_the_future(demo):
    """Planned initiatives and measurements of the last period are entered by now: the change
    log, the histories and recorded_at never read as written on a later day."""
    from django.apps import apps

    from metrics.models import Measurement
    from programs.changes import Change

    now = timezone.now()
    assert not Change.objects.filter(at__gt=now).exists()
    assert not Measurement.objects.filter(recorded_at__gt=now).exists()
    dated = [m for m in apps.get_models() if m.__name__.startswith("Historical")]
    assert dated, "no history models found"
    late = {m.__name__: m.objects.filter(history_date__gt=now).count() for m in dated}
    assert {name: n for name, n in late.items() if n} == {}
    # Planned work is still in the future where the story puts it.
    from programs.models import Initiative

    assert Initiative.objects.filter(starts_on__gt=timezone.localdate()).exists()
