"""The change log and every History page read as sentences (SPEC §5): names, days and money
in the organization's currency, never the stored "800000", ISO dates, codes, ids or JSON."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accountability.flag_actions import flag_acknowledge
from accountability.models import Flag
from accountability.scans import scan_organization
from demo.story import build_demo
from metrics.services import metric_update
from programs.actors import stamp
from programs.changelog import bulk_history
from programs.changes import Change
from tests.dashboard.test_plain_language import assert_plain, visible
from tests.factories import (
    FlagFactory,
    MembershipFactory,
    MetricFactory,
    ProgramFactory,
    RoadmapStageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ISO_DAY = re.compile(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ana(organization, office_user):
    office_user.first_name, office_user.last_name = "Ana", "Costa"
    office_user.save()
    return office_user


@pytest.fixture
def office(client, ana):
    client.force_login(ana)
    return client


@pytest.fixture
def program(organization, ana):
    organization.currency = "CHF"
    organization.save()
    program = ProgramFactory(organization=organization, name="Paperless", budget=Decimal("800000"))
    stamp(program, ana)
    program.budget = Decimal("400000")
    program.save()
    return program


def entry_of(obj, **filters) -> Change:
    return Change.objects.filter(model=obj._meta.label_lower, object_id=obj.pk, action="~", **filters).first()


def test_a_budget_change_shows_money_in_the_organizations_currency(program):
    entry = entry_of(program)
    assert entry.changes == [{"field": "budget", "label": "budget", "old": "800000", "new": "400000"}]
    assert entry.sentence.startswith("Ana Costa changed the budget of Paperless from CHF 800,000 to CHF 400,000 on ")
    assert "800000" not in entry.sentence


def test_the_api_keeps_the_stored_values_and_its_sentence_reads_as_the_admins(organization, program, ana):
    api = APIClient()
    api.force_login(ana)
    row = next(r for r in api.get("/api/v1/changes/", {"model": "program"}).json()["results"] if r["action"] == "~")
    assert row["changes"] == [{"field": "budget", "label": "budget", "old": "800000", "new": "400000"}]
    assert row["sentence"] == entry_of(program).sentence
    assert "CHF 400,000" in row["sentence"]


def test_a_date_change_shows_the_day_not_iso(organization, ana):
    metric = MetricFactory(
        program=ProgramFactory(organization=organization), name="NPS", target_on=dt.date(2028, 10, 1)
    )
    metric_update(metric=metric, changes={"target_on": dt.date(2029, 4, 19)}, reason="replanned 2029-04-01", actor=ana)
    sentence = entry_of(metric).sentence
    assert "changed the target on of NPS from 1 Oct 2028 to 19 Apr 2029" in sentence
    assert sentence.endswith("(replanned 1 Apr 2029)")
    assert not ISO_DAY.search(sentence)


def test_a_choice_shows_its_label_even_when_an_entry_kept_its_code():
    # The writer stores labels; an entry that kept a code ("in_progress", 1) reads the same.
    at = timezone.make_aware(dt.datetime(2024, 11, 12, 9, 0))
    stage = Change(
        model="programs.roadmapstage",
        object_id=1,
        object_repr="1. Pilot",
        action="~",
        changes=[{"field": "status", "label": "status", "old": "planned", "new": "in_progress"}],
        history_id=1,
        at=at,
    )
    assert stage.sentence == "The system changed the status of 1. Pilot from Planned to In progress on 12 Nov 2024"
    flag = Change(
        model="accountability.flag",
        object_id=1,
        object_repr="[high] Late",
        action="~",
        changes=[
            {"field": "escalation_level", "label": "escalation level", "old": "0", "new": "Owner's manager"},
            {"field": "evidence", "label": "evidence", "old": '{"as_of": "2026-11-24"}', "new": '{"as_of": "2026'},
            {"field": "owner", "label": "owner", "old": "#41 (deleted)", "new": "Rui"},
            {"field": "last_detected_at", "label": "last detected at", "old": None, "new": "2026-12-01T06:00+00:00"},
        ],
        reason="escalated by the scan as of 2026-12-01",
        history_id=2,
        at=at,
    )
    assert flag.sentence == (
        "The system changed the flag [high] Late: escalation level from Owner to Owner's manager; evidence updated; "
        "owner from a deleted person to Rui; last detected at from nothing to 1 Dec 2026, 06:00 on 12 Nov 2024 "
        "(escalated by the scan as of 1 Dec 2026)"
    )


def test_a_flag_change_by_the_scan_reads_without_json(organization):
    flag = FlagFactory(program=ProgramFactory(organization=organization), evidence={"as_of": "2026-11-24"})
    flag.evidence = {"as_of": "2026-12-01", "factors": [{"code": "program_paused"}]}
    flag.save(update_fields=["evidence"])
    entry = entry_of(flag)
    assert entry.sentence.startswith(f"The system updated the evidence of {flag} on ")
    assert "{" not in entry.sentence and "program_paused" not in entry.sentence
    # As the scan escalates: the rows updated, then their snapshots and entries in bulk.
    Flag.objects.filter(pk=flag.pk).update(escalation_level=1)
    flag.escalation_level = 1
    bulk_history(Flag, [flag], update=True, reason="escalated by the scan as of 2026-12-01")
    escalated = Change.objects.filter(model="accountability.flag", object_id=flag.pk).first()
    assert escalated.sentence.startswith(
        f"The system changed the escalation level of {flag} from Owner to Owner's manager"
    )
    assert escalated.sentence.endswith("(escalated by the scan as of 1 Dec 2026)")


def test_the_admin_entry_page_shows_no_json_model_or_ids(office, program):
    entry = entry_of(program)
    page = office.get(f"/admin/programs/change/{entry.pk}/change/").content.decode()
    text = visible(page)
    assert "CHF 800,000" in text and "Ana Costa" in text
    for raw in ('"field"', "programs.program", "Object id", "History id", "Model:", "800000", "Changes:"):
        assert raw not in text, raw
    listing = visible(office.get("/admin/programs/change/").content.decode())
    assert "from CHF 800,000 to CHF 400,000" in listing
    assert not ISO_DAY.search(listing)


def test_a_flags_history_page_lists_its_entries(office, organization, ana):
    flag = FlagFactory(program=ProgramFactory(organization=organization), title="Sponsor absent")
    flag_acknowledge(flag=flag, actor=ana)
    page = office.get(reverse("admin:accountability_flag_history", args=[flag.pk]))
    assert page.status_code == 200
    text = visible(page.content.decode())
    assert "doesn’t have a change history" not in text
    assert "Ana Costa changed the flag [high] Sponsor absent: status from Open to Acknowledged" in text
    assert "The system created the flag [high] Sponsor absent on " in text
    assert text.index("from Open to Acknowledged") < text.index("created the flag")  # newest first


def test_a_programs_history_page_shows_formatted_values_and_the_actors_name(office, program, ana):
    stamp(program, ana)
    program.first_results_due_on = dt.date(2028, 2, 1)
    program.save()
    page = office.get(reverse("admin:programs_program_history", args=[program.pk]))
    assert page.status_code == 200
    text = visible(page.content.decode())
    assert "Ana Costa changed the budget of Paperless from CHF 800,000 to CHF 400,000" in text
    assert "Ana Costa set the first results due on of Paperless to 1 Feb 2028" in text
    for raw in ("800000.00", "2028-02-01", "None", "Changed by"):
        assert raw not in text, raw


def test_every_tracked_admin_has_the_change_log_history(office, organization, ana):
    stage = RoadmapStageFactory(program=ProgramFactory(organization=organization), name="Pilot", budget=100000)
    stamp(stage, ana)
    stage.budget = 150000
    stage.save()
    text = visible(office.get(reverse("admin:programs_roadmapstage_history", args=[stage.pk])).content.decode())
    assert "from €100,000 to €150,000" in text
    person_page = office.get(reverse("admin:programs_person_history", args=[stage.program.executive_sponsor.pk]))
    assert "created the person" in visible(person_page.content.decode())


def test_another_organizations_history_redirects_as_missing(office, other_organization):
    theirs = FlagFactory(program=ProgramFactory(organization=other_organization))
    for url in (
        reverse("admin:accountability_flag_history", args=[theirs.pk]),
        reverse("admin:programs_program_history", args=[theirs.program.pk]),
    ):
        response = office.get(url)
        assert response.status_code == 302 and response.url == reverse("admin:index"), url


def test_a_history_page_costs_the_same_queries_for_2_and_40_entries(
    office, program, ana, django_assert_max_num_queries
):
    url = reverse("admin:programs_program_history", args=[program.pk])

    def count() -> int:
        with django_assert_max_num_queries(20) as ctx:
            assert office.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for n in range(40):
        stamp(program, ana)
        program.budget = Decimal(500000 + n)
        program.save()
    assert count() == small


def test_the_demos_change_log_reads_as_sentences(client):
    organization = build_demo(users=False)
    scan_organization(organization=organization, as_of=timezone.localdate())
    entries = list(Change.objects.filter(organization=organization))
    assert len(entries) > 100
    for entry in entries:
        assert_plain(entry.sentence, f"change {entry.pk}")
        assert not ISO_DAY.search(entry.sentence), entry.sentence
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=organization, role="office")
    client.force_login(user)
    listing = visible(client.get("/admin/programs/change/", {"all": ""}).content.decode())
    assert not ISO_DAY.search(listing)
    flag = Flag.objects.filter(organization=organization).first()
    history = visible(client.get(reverse("admin:accountability_flag_history", args=[flag.pk])).content.decode())
    assert "found by the scan as of" in history
    assert_plain(history, "flag history")
