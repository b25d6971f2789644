import datetime as dt
from decimal import Decimal

import pytest

from accountability.choices import SessionStatus
from dashboard import charts
from dashboard.program import flag_detail, program_detail
from dashboard.selectors import portfolio_summary
from programs.choices import ProgramStatus
from programs.models import Program
from tests.factories import (
    AttendanceFactory,
    FlagFactory,
    ForumFactory,
    ForumSessionFactory,
    MetricFactory,
    ProgramFactory,
    RiskAssessmentFactory,
)

from .builders import EXPECTED, build_program

AS_OF = dt.date(2025, 6, 30)
pytestmark = pytest.mark.django_db


def _card(summary, program):
    (card,) = [c for c in summary.programs if c.id == program.id]
    return card


def test_card_shows_every_fact_of_the_program(organization):
    built = build_program(organization, AS_OF)
    card = _card(portfolio_summary(organization_ids=[organization.id], as_of=AS_OF), built["program"])

    assert card.month_of_horizon == EXPECTED["month_of_horizon"]
    assert card.committed_horizon_months == 60
    assert card.horizon_pct == round(100 * 14 / 60)
    assert (card.risk.score, card.risk.level) == (62, "high")
    assert (card.risk.previous_score, card.risk.trend, card.risk.change) == (48, "rising", 14)
    assert card.flags == EXPECTED["flags"]
    assert card.flags_total == 5
    assert card.metric_health == EXPECTED["health"]
    assert (card.forum_held, card.forum_scheduled, card.forum_adherence_pct) == (5, 6, 83)
    assert (card.sponsor_present, card.sponsor_held, card.sponsor_presence_pct) == (2, 5, 40)
    assert card.needs_attention
    assert card.attention_reasons == ["High early-bail risk (score 62)", "1 critical flag", "2 high flags"]


def test_top_flags_most_severe_first_with_owner_and_age(organization):
    built = build_program(organization, AS_OF)
    card = _card(portfolio_summary(organization_ids=[organization.id], as_of=AS_OF), built["program"])

    assert [f.severity for f in card.top_flags] == ["critical", "high", "high"]
    assert all(f.age_days == 20 for f in card.top_flags)
    assert card.top_flags[0].owner_name == built["program"].executive_sponsor.name


def test_attention_cards_come_first_and_calm_programs_need_none(organization):
    calm = build_program(organization, AS_OF, name="A calm program", calm=True)
    hot = build_program(organization, AS_OF, name="Z hot program")
    summary = portfolio_summary(organization_ids=[organization.id], as_of=AS_OF)

    assert [c.id for c in summary.programs] == [hot["program"].id, calm["program"].id]
    assert [c.id for c in summary.attention] == [hot["program"].id]
    calm_card = _card(summary, calm["program"])
    assert calm_card.flags_total == 0 and not calm_card.needs_attention
    assert calm_card.risk.trend == "falling"
    assert summary.flags == EXPECTED["flags"]


@pytest.mark.parametrize(
    ("level", "severity", "attention"),
    [("elevated", "medium", False), ("high", "low", True), ("critical", "low", True), ("low", "high", True)],
)
def test_attention_threshold(organization, level, severity, attention):
    program = ProgramFactory(organization=organization)
    RiskAssessmentFactory(program=program, as_of=AS_OF, score=40, level=level)
    FlagFactory(program=program, severity=severity)
    card = _card(portfolio_summary(organization_ids=[organization.id], as_of=AS_OF), program)
    assert card.needs_attention is attention


def test_forum_window_is_90_days_and_sponsor_window_180_days_back_from_as_of(organization):
    program = ProgramFactory(organization=organization)
    forum = ForumFactory(program=program)
    # as_of itself and 89 days back are in the forum window, 90 days back is not; the
    # sponsor presence window (the sponsor_disengaged rule's) runs to 179 days back.
    for days in (0, 89, 90, 179, 180):
        when = dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(9), tzinfo=dt.UTC)
        session = ForumSessionFactory(forum=forum, scheduled_for=when, status=SessionStatus.HELD)
        AttendanceFactory(session=session, person=program.executive_sponsor, present=True)
    summary = portfolio_summary(organization_ids=[organization.id], as_of=AS_OF)
    card = _card(summary, program)
    assert (card.forum_held, card.forum_scheduled) == (2, 2)
    assert (card.sponsor_present, card.sponsor_held) == (4, 4)
    assert (summary.window_days, summary.sponsor_window_days) == (90, 180)
    assert (card.forum_window_days, card.sponsor_window_days) == (90, 180)


def test_sponsor_presence_ignores_forums_the_sponsor_is_not_part_of_and_delegates(organization):
    program = ProgramFactory(organization=organization)
    other_chair = ForumFactory(program=program, chair=program.customer_champion)
    member_forum = ForumFactory(program=program, chair=program.customer_champion)
    member_forum.members.add(program.executive_sponsor)
    when = dt.datetime.combine(AS_OF - dt.timedelta(days=3), dt.time(9), tzinfo=dt.UTC)
    ForumSessionFactory(forum=other_chair, scheduled_for=when)  # the sponsor is not expected here
    session = ForumSessionFactory(forum=member_forum, scheduled_for=when)
    AttendanceFactory(
        session=session, person=program.executive_sponsor, present=False, delegate=program.customer_champion
    )
    card = _card(portfolio_summary(organization_ids=[organization.id], as_of=AS_OF), program)
    assert (card.sponsor_present, card.sponsor_held, card.sponsor_presence_pct) == (0, 1, 0)
    assert (card.forum_held, card.forum_scheduled) == (2, 2)


def test_no_data_cards_read_as_empty_not_broken(organization):
    program = ProgramFactory(
        organization=organization, status=ProgramStatus.DRAFT, started_on=None, executive_sponsor=None
    )
    card = _card(portfolio_summary(organization_ids=[organization.id], as_of=AS_OF), program)
    assert card.month_of_horizon is None and card.horizon_pct == 0
    assert card.risk is None
    assert card.forum_adherence_pct is None and card.sponsor_presence_pct is None
    assert not card.needs_attention


def test_portfolio_is_scoped_to_the_organizations(organization, other_organization):
    mine = build_program(organization, AS_OF)["program"]
    theirs = build_program(other_organization, AS_OF)["program"]
    summary = portfolio_summary(organization_ids=[organization.id], as_of=AS_OF)
    assert [c.id for c in summary.programs] == [mine.id]
    assert {c.id for c in portfolio_summary(organization_ids=None, as_of=AS_OF).programs} == {mine.id, theirs.id}
    assert portfolio_summary(organization_ids=[], as_of=AS_OF).programs == []


def test_portfolio_query_count_is_constant(organization, django_assert_num_queries):
    build_program(organization, AS_OF)
    with django_assert_num_queries(10):
        portfolio_summary(organization_ids=[organization.id], as_of=AS_OF)
    for _ in range(3):
        build_program(organization, AS_OF)
    with django_assert_num_queries(10):
        summary = portfolio_summary(organization_ids=[organization.id], as_of=AS_OF)
    assert len(summary.programs) == 4


def test_program_detail_sections(organization):
    built = build_program(organization, AS_OF)
    detail = program_detail(organization_ids=[organization.id], program_id=built["program"].id, as_of=AS_OF)

    (root,) = detail.metric_roots
    assert root.metric.id == built["root"].id and root.health == "on_track"
    (nps,) = root.children
    assert nps.health == "off_track"
    assert [c.metric.name for c in nps.children] == ["Average wait time", "First-contact resolution"]
    assert [r.change_text for r in nps.loosenings] == ["target 45 pts → 40 pts"]
    assert "Target loosened" in nps.chart and 'class="loosened"' in nps.chart
    assert detail.metric_count == 4
    assert [row["score"] for row in detail.risk_history] == [30, 48, 62]
    assert [f["label"] for f in detail.risk_factors] == ["Sponsor absent from the forums", "Early phase of the program"]
    assert [f.severity for f in detail.flags] == ["critical", "high", "high", "medium", "low"]
    assert [s.id for s in detail.stalled] == [built["stalled"].id]
    assert detail.stalled[0].days_silent == 100 and detail.in_flight_count == 2
    (forum,) = detail.forums
    assert (forum.held, forum.scheduled, forum.adherence_pct) == (5, 6, 83)
    assert [row.sponsor for row in forum.sessions] == ["present", "absent", "not_held", "present", "absent", "absent"]
    assert forum.sessions[0].attended == 4 and forum.sessions[1].present.count(built["sponsor"].name) == 0
    assert [s.name for s in detail.stages] == ["Foundations", "Scale"]
    assert detail.unfunded_stages == 1 and detail.funded_total == Decimal("250000")


def test_program_detail_query_count_does_not_grow_with_the_program(organization, django_assert_max_num_queries):
    small = build_program(organization, AS_OF)["program"]
    big = build_program(organization, AS_OF)["program"]
    for i in range(10):
        MetricFactory(program=big, name=f"Extra {i}")
    forum = ForumFactory(program=big)
    for i in range(8):
        ForumSessionFactory(forum=forum, scheduled_for=dt.datetime(2025, 6, i + 1, tzinfo=dt.UTC))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for program in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            program_detail(organization_ids=[organization.id], program_id=program.id, as_of=AS_OF)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 25


def test_program_detail_of_another_organization_is_not_found(organization, other_organization):
    theirs = build_program(other_organization, AS_OF)
    with pytest.raises(Program.DoesNotExist):
        program_detail(organization_ids=[organization.id], program_id=theirs["program"].id, as_of=AS_OF)
    with pytest.raises(type(theirs["flags"][0]).DoesNotExist):
        flag_detail(organization_ids=[organization.id], flag_id=theirs["flags"][0].id, as_of=AS_OF)


def test_format_number():
    assert charts.format_number(Decimal("62.5000"), "%") == "62.5%"
    assert charts.format_number(Decimal("1234567"), "") == "1,234,567"
    assert charts.format_number(Decimal("40"), "pts") == "40 pts"
    assert charts.format_number(None) == "—"


def test_risk_chart_describes_itself():
    history = [
        {"as_of": dt.date(2025, 1, 1), "score": 20, "level": "low"},
        {"as_of": dt.date(2025, 2, 1), "score": 80, "level": "critical"},
    ]
    svg = charts.risk_chart(history, title="Risk")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "Lowest 20, highest 80, latest 80 (critical)." in svg
    assert "Critical 75–100" in svg
    assert "No risk assessment yet." in charts.risk_chart([], title="Risk")


def test_metric_chart_escapes_every_text_it_draws():
    """A metric's name and unit are typed by people: they reach the SVG's title, its
    description and each value's tooltip escaped, never as markup."""
    from metrics.selectors import MetricOnDate

    metric = MetricOnDate(
        id=1, program_id=1, parent_id=None, name='Wait <time> & "speed"', level="operational", kind="operational",
        unit="<s>", direction="decrease", status="active", owner_id=None, incentive_weight=0,
        baseline=Decimal("300"), baseline_on=dt.date(2025, 1, 1), target=Decimal("200"), target_on=dt.date(2026, 1, 1),
        latest_value=Decimal("252.5"), latest_period_end=dt.date(2025, 6, 30),
    )  # fmt: skip
    points = [(dt.date(2025, 3, 31), Decimal("290")), (dt.date(2025, 6, 30), Decimal("252.5"))]
    svg = charts.metric_chart(metric, points, [], dt.date(2025, 6, 30))
    assert "<time>" not in svg and "<s>" not in svg
    assert "Wait &lt;time&gt; &amp; &quot;speed&quot;: values against the target</title>" in svg
    assert "latest 252.5 &lt;s&gt;." in svg  # the description
    assert "<title>252.5 &lt;s&gt; on 30 Jun 2025</title>" in svg  # the last value's tooltip
    assert svg.count("<circle") == 3  # two values and the ring on the latest


def test_in_tree_order_closes_each_list_after_its_last_node():
    """A(B(C, D)), E: a node with children leaves its list open (no closes); a leaf closes
    the lists it is the last of: D ends B's and A's, E ends nothing (the caller's <ul> is
    the page's)."""
    from dashboard.program import MetricNode, in_tree_order

    def node(name, *children):
        return MetricNode(name, "no_data", None, [], [], "", list(children))

    tree = [node("A", node("B", node("C"), node("D"))), node("E")]
    assert [(n.metric, len(closes)) for n, closes in in_tree_order(tree)] == [
        ("A", 0),
        ("B", 0),
        ("C", 0),
        ("D", 2),
        ("E", 0),
    ]
