"""The admin's read-only evidence reads as sentences (SPEC §5): on the seeded demo, no flag
page's evidence, no program's latest risk and no risk assessment shows a flag kind code, a
factor code, a raw id or a JSON brace. The same checks as the dashboard's (12a's renderer)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accountability.models import Flag, RiskAssessment
from accountability.scans import scan_organization
from demo.story import build_demo
from programs.models import Person, Program
from tests.dashboard.test_plain_language import assert_plain, visible
from tests.programs.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def field_text(page: str, name: str) -> str:
    match = re.search(rf'field-{name}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert match, f"no read-only field {name}"
    return visible(match.group(1))


@pytest.fixture
def demo_office(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    organization = build_demo(users=False)
    scan_organization(organization=organization, as_of=timezone.localdate())
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=organization, role="office")
    client.force_login(user)
    return organization


def test_every_flag_program_and_risk_page_of_the_demo_reads_as_sentences(client, demo_office):
    flags = list(Flag.objects.filter(organization=demo_office))
    assert len({f.kind for f in flags}) == 21
    for flag in flags:
        page = client.get(reverse("admin:accountability_flag_change", args=[flag.pk])).content.decode()
        text = field_text(page, "evidence_sentences")
        assert text and text != "—", flag.kind
        assert_plain(text, f"flag {flag.kind}")
        assert_plain(field_text(page, "subject"), f"flag {flag.kind} subject")
    for program in Program.objects.filter(organization=demo_office):
        page = client.get(reverse("admin:programs_program_change", args=[program.pk])).content.decode()
        assert_plain(field_text(page, "latest_risk"), f"program {program}")
    for assessment in RiskAssessment.objects.filter(program__organization=demo_office):
        page = client.get(reverse("admin:accountability_riskassessment_change", args=[assessment.pk])).content
        assert_plain(field_text(page.decode(), "factors_display"), f"risk of {assessment.program}")
    listing = visible(client.get(reverse("admin:accountability_riskassessment_changelist")).content.decode())
    assert "program_paused" not in listing and "Program paused (35)" in listing


def test_metric_revisions_read_as_sentences_with_names(client, demo_office, django_assert_max_num_queries):
    from metrics.models import MetricRevision

    owner_change = MetricRevision.objects.filter(metric__program__organization=demo_office, field="owner").first()
    assert owner_change is not None
    old, new = (Person.objects.get(pk=int(v)).name for v in (owner_change.old_value, owner_change.new_value))
    page = client.get(reverse("admin:metrics_metric_change", args=[owner_change.metric_id])).content.decode()
    assert f"changed the owner from {old} to {new}" in visible(page)
    listing = client.get(reverse("admin:metrics_metricrevision_changelist") + "?all=").content.decode()
    assert f"changed the owner from {old} to {new}" in visible(listing)
    for revision in MetricRevision.objects.filter(metric__program__organization=demo_office):
        page = client.get(reverse("admin:metrics_metricrevision_change", args=[revision.pk])).content.decode()
        assert_plain(field_text(page, "sentence"), f"revision of {revision.field}")


def test_the_program_list_names_risk_levels_in_words(client, demo_office):
    """The list's risk level column reads "Critical", never the code "critical"."""
    page = client.get(reverse("admin:programs_program_changelist")).content.decode()
    cells = re.findall(r'<td class="field-risk_level">(.*?)</td>', page)
    assert cells and set(cells) <= {"Low", "Elevated", "High", "Critical", "not assessed"}, cells
    assert {"Critical", "High"} <= set(cells)
