import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accountability.models import Flag
from metrics.choices import Kind, Level
from tests.factories import ApiKeyFactory, MembershipFactory, ProgramFactory, UserFactory
from tests.metrics.factories import MetricFactory

from .builders import EXPECTED, build_program

AS_OF = dt.date(2025, 6, 30)
Q = f"?as_of={AS_OF.isoformat()}"
pytestmark = pytest.mark.django_db


@pytest.fixture
def exec_client(client, executive_user):
    client.force_login(executive_user)
    return client


def _text(html: bytes) -> str:
    """The page's text roughly as read on screen: tags dropped, whitespace collapsed."""
    spaced = re.sub(r"</?(?:td|th|tr|li|p|div|dt|dd|h\d|br|section|table|ul|dl)\b[^>]*>", " ", html.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", spaced))


def _get_counting(client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("url", ["/dashboard/", "/dashboard/programs/1/", "/dashboard/flags/1/"])
def test_login_required(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_login_page_and_redirect_to_dashboard(client, executive_user):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'<label for="id_username">Username</label>' in page.content
    response = client.post("/accounts/login/", {"username": executive_user.username, "password": "pw-for-tests-only"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_logout_is_a_post_form(exec_client):
    page = exec_client.get("/dashboard/" + Q)
    assert re.search(rb'<form method="post" action="/accounts/logout/"', page.content)
    assert exec_client.post("/accounts/logout/").status_code == 302
    assert exec_client.get("/dashboard/").status_code == 302


def test_portfolio_shows_the_card_numbers(exec_client, organization):
    built = build_program(organization, AS_OF, name="Customer First")
    response = exec_client.get("/dashboard/" + Q)
    text = _text(response.content)
    assert "Customer First" in text
    assert "Month 14 of 60" in text
    assert "High score 62 ↑ rising (+14)" in text
    assert "1 Critical 2 High 1 Medium 1 Low" in text
    assert "1 off track 1 at risk 1 on track 1 no data" in text
    assert "held 5 of 6 scheduled (83%)" in text
    assert f"{built['sponsor'].name} present at 2 of 5 (40%)" in text
    assert "1 program needs your attention" in text
    assert f'href="/dashboard/flags/{built["flags"][0].id}/{Q}"' in response.content.decode()


def test_program_page_sections(exec_client, organization):
    built = build_program(organization, AS_OF)
    response = exec_client.get(f"/dashboard/programs/{built['program'].id}/{Q}")
    html = response.content.decode()
    for heading in (
        "Open flags: who owes what",
        "Early-bail risk over time",
        "Metric cascade",
        "Stalled initiatives",
        "Forums and who turns up",
        "Roadmap and funding",
    ):
        assert re.search(rf"<h2 id=\"[a-z-]+\">{heading}", html), heading
    text = _text(response.content)
    assert html.count('class="metric-node') == 4
    assert html.count("<svg") == 5  # one per metric and the risk chart
    assert "Loosened 1 time: target 45 pts → 40 pts" in text
    assert "Why the latest score is 62 (high," in text
    assert "Sponsor absent from the forums +20" in text
    assert "1 of 2 initiatives in progress or blocked" in text
    assert "100 days" in text
    assert "Unfunded" in text
    assert html.count("sent a delegate") == 0 and html.count("✓</span> present") == 2


class _Cascade(HTMLParser):
    """Each metric-node <li> with the metric-node it sits in, read from the real nesting."""

    def __init__(self):
        super().__init__()
        self.open: list[str | None] = []  # the <li> and <ul> elements open, innermost last
        self.parent_of: dict[int, int | None] = {}

    def handle_starttag(self, tag, attrs):
        if tag not in ("li", "ul"):
            return
        metric_id = dict(attrs).get("data-metric-id") if tag == "li" else None
        if metric_id:
            enclosing = [int(m) for m in self.open if m and m.isdigit()]
            self.parent_of[int(metric_id)] = enclosing[-1] if enclosing else None
        self.open.append(metric_id or tag)

    def handle_endtag(self, tag):
        if tag in ("li", "ul"):
            self.open.pop()


def test_the_cascade_nests_each_metric_under_its_parent(exec_client, organization):
    """Three levels deep, two leaves ending the deepest list, then another root: every
    metric sits in its parent's list, and every list opened is closed."""
    built = build_program(organization, AS_OF)
    program = built["program"]
    second_root = MetricFactory(program=program, name="Cost to serve", level=Level.STRATEGIC, kind=Kind.OUTCOME)
    child = MetricFactory(program=program, parent=second_root, level=Level.TACTICAL, kind=Kind.OPERATIONAL)
    html = exec_client.get(f"/dashboard/programs/{program.id}/{Q}").content.decode()
    cascade = _Cascade()
    cascade.feed(html[html.index('<section id="metrics"') : html.index('<section id="initiatives"')])
    assert cascade.open == []
    assert cascade.parent_of == dict(program.metrics.values_list("id", "parent_id"))
    assert cascade.parent_of[child.id] == second_root.id and len(cascade.parent_of) == 6


def test_flag_page(exec_client, organization):
    flag = build_program(organization, AS_OF)["flags"][0]
    text = _text(exec_client.get(f"/dashboard/flags/{flag.id}/{Q}").content)
    assert flag.title in text
    assert f"Owner, who must act {flag.owner.name}" in text
    assert "20 days before 30 Jun 2025" in text
    assert "“Net promoter score” is not measured; it has no recent value, 70 days ago." in text


def test_other_organizations_never_appear(exec_client, organization, other_organization):
    mine = build_program(organization, AS_OF, name="Mine")
    theirs = build_program(other_organization, AS_OF, name="Secret program of another company")
    page = exec_client.get("/dashboard/" + Q).content.decode()
    assert "Mine" in page and "Secret program" not in page and theirs["sponsor"].name not in page
    assert exec_client.get(f"/dashboard/programs/{theirs['program'].id}/").status_code == 404
    assert exec_client.get(f"/dashboard/flags/{theirs['flags'][0].id}/").status_code == 404
    assert exec_client.get(f"/dashboard/programs/{mine['program'].id}/").status_code == 200
    api = exec_client.get("/api/v1/dashboard/" + Q).json()
    assert [p["id"] for p in api["programs"]] == [mine["program"].id]


def test_user_without_membership_sees_nothing(client, organization):
    build_program(organization, AS_OF)
    client.force_login(UserFactory())
    assert "There is no program in your organizations yet" in _text(client.get("/dashboard/").content)


def test_portfolio_query_count_is_the_same_for_1_and_5_programs(exec_client, organization):
    build_program(organization, AS_OF)
    one, _ = _get_counting(exec_client, "/dashboard/" + Q)
    for _ in range(4):
        build_program(organization, AS_OF)
    five, response = _get_counting(exec_client, "/dashboard/" + Q)
    assert response.content.decode().count("data-program-id=") == 5
    assert one == five <= 14


def test_program_query_count_does_not_grow(exec_client, organization):
    small = build_program(organization, AS_OF)["program"]
    counts = [_get_counting(exec_client, f"/dashboard/programs/{small.id}/{Q}")[0]]
    big = build_program(organization, AS_OF)["program"]
    for _ in range(4):  # five times the metrics, flags, sessions, initiatives
        other = build_program(organization, AS_OF)["program"]
        for model in ("metrics", "flags", "forums", "initiatives"):
            getattr(other, model).all().update(program=big)
        Flag.objects.filter(program=big).update(organization=organization)
    counts.append(_get_counting(exec_client, f"/dashboard/programs/{big.id}/{Q}")[0])
    assert counts[0] == counts[1] <= 30


def test_bad_as_of_falls_back_to_today_with_a_notice(exec_client):
    text = _text(exec_client.get("/dashboard/?as_of=2025-13-45").content)
    assert "is not a date in the form YYYY-MM-DD; showing today instead." in text


def test_api_matches_the_cards(exec_client, organization):
    built = build_program(organization, AS_OF)
    data = exec_client.get("/api/v1/dashboard/" + Q).json()
    (card,) = data["programs"]
    assert card["id"] == built["program"].id
    assert card["month_of_horizon"] == 14
    assert card["risk"] == {
        "score": 62,
        "level": "high",
        "as_of": "2025-06-29",
        "previous_score": 48,
        "previous_as_of": "2025-05-31",
        "change": 14,
        "trend": "rising",
    }
    assert card["flags"] == EXPECTED["flags"]
    assert card["metric_health"] == EXPECTED["health"]
    assert (card["forum_held"], card["forum_scheduled"], card["forum_adherence_pct"]) == (5, 6, 83)
    assert (card["sponsor_present"], card["sponsor_held"], card["sponsor_presence_pct"]) == (2, 5, 40)
    assert data["attention_count"] == 1 and card["needs_attention"] is True
    assert [f["severity"] for f in card["top_flags"]] == ["critical", "high", "high"]


def test_api_with_an_api_key_is_scoped_to_its_organization(client, organization, other_organization):
    mine = build_program(organization, AS_OF)["program"]
    build_program(other_organization, AS_OF)
    key = ApiKeyFactory(organization=organization, role="integration", raw_key=None)
    raw = "cxg_dashboard-test-key-0123456789abcdef"
    key.set_key(raw)
    key.save()
    response = client.get("/api/v1/dashboard/" + Q, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["programs"]] == [mine.id]


@pytest.mark.parametrize("as_of", ["yesterday", "2025-02-30", "0001-01-01", "9999-12-31", "1899-12-31"])
def test_api_refuses_bad_dates(exec_client, as_of):
    response = exec_client.get(f"/api/v1/dashboard/?as_of={as_of}")
    assert response.status_code == 400 and "as_of" in response.json()


def test_api_refuses_anonymous():
    assert Client().get("/api/v1/dashboard/").status_code == 401


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_pages_survive_extreme_dates(exec_client, organization, as_of):
    program = build_program(organization, AS_OF)["program"]
    for url in ("/dashboard/", f"/dashboard/programs/{program.id}/"):
        response = exec_client.get(f"{url}?as_of={as_of}")
        assert response.status_code == 200
        assert "showing today instead" in response.content.decode()


def test_api_query_count_is_constant(exec_client, organization):
    build_program(organization, AS_OF)
    one, _ = _get_counting(exec_client, "/api/v1/dashboard/" + Q)
    for _ in range(4):
        build_program(organization, AS_OF)
    five, response = _get_counting(exec_client, "/api/v1/dashboard/" + Q)
    assert len(response.json()["programs"]) == 5
    assert one == five <= 14


def test_superuser_sees_every_organization_and_org_names(client, organization, other_organization):
    build_program(organization, AS_OF)
    build_program(other_organization, AS_OF)
    admin = UserFactory(is_superuser=True)
    client.force_login(admin)
    html = client.get("/dashboard/" + Q).content.decode()
    assert html.count("data-program-id=") == 2
    assert organization.name in html and other_organization.name in html


def test_member_of_two_organizations_sees_both(client, organization, other_organization):
    user = UserFactory()
    MembershipFactory(user=user, organization=organization, role="executive")
    MembershipFactory(user=user, organization=other_organization, role="executive")
    ProgramFactory(organization=organization)
    ProgramFactory(organization=other_organization)
    client.force_login(user)
    assert client.get("/dashboard/").content.decode().count("data-program-id=") == 2


def test_program_flags_filter_with_the_api_filterset(exec_client, organization):
    program = build_program(organization, AS_OF)["program"]
    url = f"/dashboard/programs/{program.id}/{Q}"
    html = exec_client.get(url + "&severity=critical&severity=high").content.decode()
    assert html.count('<tr id="flag-') == 3
    assert "Showing 3 matching flags" in html
    html = exec_client.get(url).content.decode()
    assert html.count('<tr id="flag-') == 5 and "Critical and high only (3)" in html
    html = exec_client.get(url + "&severity=bogus").content.decode()
    assert html.count('<tr id="flag-') == 5 and "Some filters were not understood" in html


@pytest.mark.parametrize(
    "url", ["/dashboard/programs/99999999999999999999999/", "/dashboard/flags/99999999999999999999999/"]
)
def test_out_of_range_ids_are_not_found(exec_client, url):
    assert exec_client.get(url).status_code == 404


def test_bad_flag_filters_never_fail(exec_client, organization):
    program = build_program(organization, AS_OF)["program"]
    for query in ("owner=abc", "owner=99999999999999999999999", "kind=nope&severity=low", "live=maybe"):
        response = exec_client.get(f"/dashboard/programs/{program.id}/{Q}&{query}")
        assert response.status_code == 200, query
