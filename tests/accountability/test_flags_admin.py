"""Admin of flags, scan runs, risk, and the program admin's risk column and "scan now" action."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from factory import Sequence

from accountability.choices import FlagStatus, ScanStatus
from accountability.models import Flag, ScanRun
from programs.choices import ProgramStatus
from tests.factories import FlagFactory, InitiativeFactory, ProgramFactory, RiskAssessmentFactory, UserFactory

pytestmark = pytest.mark.django_db

FLAGS = reverse("admin:accountability_flag_changelist")
PROGRAMS = reverse("admin:programs_program_changelist")


@pytest.fixture
def flag(organization):
    return FlagFactory(
        program=ProgramFactory(organization=organization, name="Customer First"),
        title="Sponsor missed 5 of 6 sessions",
        evidence={"held": 6, "present": 1},
    )


def act(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [o.pk for o in objects], **extra}, follow=True)


def test_staff_see_only_their_organizations_flags(client, office_user, flag, other_organization):
    theirs = FlagFactory(program=ProgramFactory(organization=other_organization), title="Someone else problem")
    client.force_login(office_user)

    page = client.get(FLAGS).content.decode()

    assert flag.title in page and theirs.title not in page
    assert client.get(reverse("admin:accountability_flag_change", args=[theirs.pk])).status_code == 302


def test_the_flag_list_uses_a_fixed_number_of_queries(client, office_user, organization, django_assert_max_num_queries):
    program = ProgramFactory(organization=organization)
    FlagFactory.create_batch(
        3, program=program, kind="initiative_stalled", subject_type="initiative", subject_id=Sequence(lambda n: n)
    )
    client.force_login(office_user)
    with django_assert_max_num_queries(20) as few:
        client.get(FLAGS)
    FlagFactory.create_batch(
        30, program=program, kind="initiative_stalled", subject_type="initiative", subject_id=Sequence(lambda n: n)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(FLAGS).status_code == 200


def test_the_flag_page_shows_the_evidence_as_sentences_and_read_only(client, office_user, flag):
    client.force_login(office_user)
    page = client.get(reverse("admin:accountability_flag_change", args=[flag.pk])).content.decode()
    from accountability.evidence import EvidenceText

    lines = EvidenceText().flag(flag.kind, flag.evidence)
    assert lines and all(line in page for line in lines)  # the shared renderer's sentences
    assert "&quot;held&quot;" not in page and "<pre" not in page
    assert 'name="title"' not in page  # nothing editable
    assert client.get(reverse("admin:accountability_flag_add")).status_code == 403


def test_acknowledge_action_uses_the_service(client, executive_user, flag):
    client.force_login(executive_user)
    response = act(client, FLAGS, "acknowledge_flags", [flag])
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACKNOWLEDGED and flag.acknowledged_by == executive_user
    assert "1 flag(s) acknowledged" in response.content.decode()


def test_the_flag_list_shows_live_flags_unless_asked_otherwise(client, office_user, organization):
    program = ProgramFactory(organization=organization)
    titles = {}
    for n, status in enumerate(FlagStatus.values):
        titles[status] = f"Flag number {n} is {status}"
        FlagFactory(program=program, title=titles[status], status=status, subject_id=n, kind="initiative_stalled")
    client.force_login(office_user)

    def shown(url):
        page = client.get(url).content.decode()
        return {status for status, title in titles.items() if title in page}

    assert shown(FLAGS) == {FlagStatus.OPEN, FlagStatus.ACKNOWLEDGED}
    assert shown(FLAGS + "?state=resolved") == {FlagStatus.RESOLVED}
    assert shown(FLAGS + "?state=dismissed") == {FlagStatus.DISMISSED}
    assert shown(FLAGS + "?state=all") == set(FlagStatus.values)
    assert "Live (open or acknowledged)" in client.get(FLAGS).content.decode()


def test_an_invalid_move_is_reported_and_changes_nothing(client, office_user, flag):
    Flag.objects.filter(pk=flag.pk).update(status=FlagStatus.RESOLVED, closed_on=flag.last_detected_on)
    client.force_login(office_user)
    # The list shows live flags unless asked: the resolved flag is acted on from "All".
    response = act(client, FLAGS + "?state=all", "acknowledge_flags", [flag])
    assert "A flag that is resolved cannot be acknowledged" in response.content.decode()
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.RESOLVED


def test_resolve_action_for_the_program_office(client, office_user, flag):
    client.force_login(office_user)
    act(client, FLAGS, "resolve_flags", [flag])
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RESOLVED and flag.resolved_by == office_user
    assert flag.resolution_note == f"Resolved in the admin by {office_user.username}"


def test_executives_may_not_resolve(client, executive_user, flag):
    client.force_login(executive_user)
    act(client, FLAGS, "resolve_flags", [flag])
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.OPEN


def test_dismiss_action_asks_for_a_reason_first(client, office_user, flag):
    client.force_login(office_user)

    form = act(client, FLAGS, "dismiss_flags", [flag])
    assert "Dismiss flags" in form.content.decode() and flag.title in form.content.decode()
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.OPEN

    act(client, FLAGS, "dismiss_flags", [flag], reason="Board accepted the absence: sponsor on leave")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED
    assert flag.resolution_note == "Board accepted the absence: sponsor on leave"


def test_scan_runs_and_risk_assessments_are_listed_read_only(client, office_user, organization, flag):
    ScanRun.objects.create(organization=organization, as_of=dt.date(2025, 6, 1), status=ScanStatus.SUCCEEDED)
    assessment = RiskAssessmentFactory(
        program=flag.program, factors=[{"code": "program_paused", "points": 35, "evidence": {}}], score=35
    )
    client.force_login(office_user)
    assert client.get(reverse("admin:accountability_scanrun_changelist")).status_code == 200
    risk_page = client.get(reverse("admin:accountability_riskassessment_change", args=[assessment.pk]))
    assert "Program paused" in risk_page.content.decode()
    assert client.get(reverse("admin:accountability_scanrun_add")).status_code == 403


def test_the_program_list_and_page_show_the_latest_risk(client, office_user, organization):
    program = ProgramFactory(organization=organization, name="Customer First")
    RiskAssessmentFactory(program=program, as_of=dt.date(2025, 5, 1), score=10, level="low")
    RiskAssessmentFactory(
        program=program,
        as_of=dt.date(2025, 6, 1),
        score=55,
        level="high",
        factors=[{"code": "program_paused", "points": 35, "evidence": {}}],
    )
    client.force_login(office_user)

    listing = client.get(PROGRAMS).content.decode()
    assert "55" in listing and ">High<" in listing
    page = client.get(reverse("admin:programs_program_change", args=[program.pk])).content.decode()
    assert "55 / 100 — High" in page and "Program paused" in page and "program_paused" not in page
    assert "readiness" in page  # the base admin's readiness is still there


def test_run_a_scan_now_runs_it_for_the_selection_and_reports_its_counts(client, office_user, organization):
    chosen = ProgramFactory(organization=organization, status=ProgramStatus.ACTIVE)
    stalled = InitiativeFactory(program=chosen, starts_on=dt.date(2024, 1, 1), due_on=dt.date(2024, 6, 1))
    other = ProgramFactory(organization=organization)
    InitiativeFactory(program=other, starts_on=dt.date(2024, 1, 1), due_on=dt.date(2024, 6, 1))
    client.force_login(office_user)
    today = timezone.localdate()

    page = act(client, PROGRAMS, "run_scan_now", [chosen]).content.decode()

    run = ScanRun.objects.get()
    raised = Flag.objects.count()
    assert raised >= 2  # the initiative is stalled and overdue, the program has no outcome metric…
    assert run.status == ScanStatus.SUCCEEDED and (run.raised, run.refreshed, run.resolved) == (raised, 0, 0)
    assert (run.program_ids, run.requested_by, run.as_of) == ([chosen.pk], office_user, today)
    assert set(Flag.objects.values_list("program_id", flat=True)) == {chosen.pk}
    assert (
        f"Scan #{run.pk} of {organization} as of {today:%d %B %Y}, 1 program(s): "
        f"{raised} flag(s) raised, 0 refreshed, 0 resolved." in page
    )
    assert "queued" not in page
    scan_page = client.get(reverse("admin:accountability_scanrun_change", args=[run.pk])).content.decode()
    assert chosen.name in scan_page and other.name not in scan_page  # the programs by name, not ids

    # Again after the initiative is finished: its flags are resolved, the others refreshed.
    stalled.status = "done"
    stalled.save()
    page = act(client, PROGRAMS, "run_scan_now", [chosen]).content.decode()
    second = ScanRun.objects.latest("pk")
    assert second.resolved >= 1 and second.raised == 0 and second.refreshed == raised - second.resolved
    assert f"0 flag(s) raised, {second.refreshed} refreshed, {second.resolved} resolved." in page


def test_executives_cannot_run_scans(client, executive_user, organization):
    program = ProgramFactory(organization=organization)
    client.force_login(executive_user)
    act(client, PROGRAMS, "run_scan_now", [program])
    assert not ScanRun.objects.exists()


def test_a_superuser_sees_every_organization(client, flag, other_organization):
    theirs = FlagFactory(program=ProgramFactory(organization=other_organization), title="Another tenant flag")
    client.force_login(UserFactory(is_superuser=True))
    page = client.get(FLAGS).content.decode()
    assert flag.title in page and theirs.title in page
