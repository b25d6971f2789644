"""Acting on flags from the dashboard: acknowledge, comment, hand over (office and executive),
dismiss (office); CSRF; 404 for another organization, 403 for a role that may not; a refused
move answers 400 and changes nothing; every move names its actor on the page."""

import pytest
from django.test import Client

from accountability.models import Flag, FlagComment
from notifications.models import Notification
from tests.factories import FlagFactory, MembershipFactory, PersonFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def member(organization, role: str, name: str = "") -> Client:
    first, _, last = name.partition(" ")
    user = UserFactory(first_name=first, last_name=last)
    MembershipFactory(user=user, organization=organization, role=role)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.user = user
    return client


def post(client: Client, flag, verb: str, **data):
    """A form post as the browser sends it: the CSRF token read from the flag page first."""
    page = client.get(f"/dashboard/flags/{flag.pk}/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    return client.post(f"/dashboard/flags/{flag.pk}/{verb}/", {"csrfmiddlewaretoken": token, **data})


@pytest.fixture
def flag(organization):
    program = ProgramFactory(organization=organization)
    return FlagFactory(program=program, owner=PersonFactory(organization=organization, name="Sam Cole"))


def test_without_the_csrf_token_nothing_happens(organization, flag):
    ceo = member(organization, "executive")
    assert ceo.post(f"/dashboard/flags/{flag.pk}/acknowledge/").status_code == 403
    assert Flag.objects.get(pk=flag.pk).status == "open"


def test_the_ceo_acknowledges_comments_and_hands_over_and_the_page_names_who(organization, flag):
    ceo = member(organization, "executive", "Maria Alvarez")
    PersonFactory(organization=organization, user=ceo.user, name="Maria Alvarez")
    lea = PersonFactory(organization=organization, name="Lea Park", email="lea@example.com")

    done = post(ceo, flag, "acknowledge", next=f"/dashboard/programs/{flag.program_id}/#flags")
    assert done.status_code == 302 and done["Location"] == f"/dashboard/programs/{flag.program_id}/#flags"
    assert post(ceo, flag, "comment", text="Sales must own this.").status_code == 302
    assert post(ceo, flag, "assign", owner=str(lea.pk), note="Yours, Lea.").status_code == 302

    flag.refresh_from_db()
    assert (flag.status, flag.owner_id, flag.acknowledged_by_id) == ("acknowledged", lea.pk, ceo.user.pk)
    assert [c.text for c in FlagComment.objects.filter(flag=flag)] == [
        "Sales must own this.",
        "Handed this flag from Sam Cole to Lea Park. Yours, Lea.",
    ]
    assert Notification.objects.filter(
        key__startswith=f"flag:{flag.pk}:assigned:", recipient="lea@example.com"
    ).exists()
    page = ceo.get(f"/dashboard/flags/{flag.pk}/").content.decode()
    assert "by Maria Alvarez" in page  # who acknowledged
    assert page.count("Maria Alvarez</strong>") == 2  # who commented, who handed it over
    assert "You handed this flag to Lea Park" in page  # the message of the last move


def test_only_the_office_dismisses_and_a_reason_is_needed(organization, flag):
    ceo, office = member(organization, "executive"), member(organization, "office", "Olu Ade")
    assert post(ceo, flag, "dismiss", reason="Seasonal").status_code == 403
    refused = post(office, flag, "dismiss", reason="   ")
    assert refused.status_code == 400 and "Say why this flag is dismissed." in refused.content.decode()
    assert Flag.objects.get(pk=flag.pk).status == "open"
    assert post(office, flag, "dismiss", reason="Seasonal dip").status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.resolution_note) == ("dismissed", "Seasonal dip")
    assert "by Olu Ade: Seasonal dip" in office.get(f"/dashboard/flags/{flag.pk}/").content.decode()


def test_integration_users_read_but_do_not_act(organization, flag):
    robot = member(organization, "integration")
    page = robot.get(f"/dashboard/flags/{flag.pk}/").content.decode()
    assert "Act on this flag" not in page
    for verb, data in [("acknowledge", {}), ("comment", {"text": "x"}), ("assign", {"owner": flag.owner_id})]:
        assert post(robot, flag, verb, **data).status_code == 403
    assert not FlagComment.objects.exists() and Flag.objects.get(pk=flag.pk).status == "open"


def test_another_organizations_flag_is_404_and_its_people_cannot_be_chosen(organization, other_organization, flag):
    ceo = member(organization, "executive")
    theirs = FlagFactory(program=ProgramFactory(organization=other_organization))
    assert post(ceo, theirs, "comment", text="x").status_code == 404
    stranger = PersonFactory(organization=other_organization)
    for owner in (str(stranger.pk), "", "abc", "99999999999999999999"):
        refused = post(ceo, flag, "assign", owner=owner)
        assert refused.status_code == 400, owner
    assert Flag.objects.get(pk=flag.pk).owner_id == flag.owner_id
    assert post(ceo, flag, "comment", text="  ").status_code == 400
    assert post(ceo, flag, "frobnicate").status_code == 404
    assert not FlagComment.objects.exists()


def test_an_unsafe_next_is_ignored(organization, flag):
    ceo = member(organization, "executive")
    done = post(ceo, flag, "comment", text="ok", next="https://evil.example.com/")
    assert done["Location"] == f"/dashboard/flags/{flag.pk}/"


def test_the_program_page_offers_the_moves_for_each_flag(organization, flag):
    ceo = member(organization, "executive")
    page = ceo.get(f"/dashboard/programs/{flag.program_id}/").content.decode()
    assert f'action="/dashboard/flags/{flag.pk}/acknowledge/"' in page
    assert f'action="/dashboard/flags/{flag.pk}/assign/"' in page
    assert f'action="/dashboard/flags/{flag.pk}/dismiss/"' not in page  # the office's move


def test_each_flag_offers_everyone_active_but_its_owner_by_name(organization, flag):
    # The options are rendered once per page and reused by every flag: each flag's list must
    # still leave out that flag's own owner, and names are escaped.
    second = FlagFactory(
        program=flag.program,
        subject_id=flag.subject_id + 1,
        owner=PersonFactory(organization=organization, name="Ana <Ops>"),
    )
    PersonFactory(organization=organization, name="Gone Person", active=False)
    ceo = member(organization, "executive")
    page = ceo.get(f"/dashboard/programs/{flag.program_id}/").content.decode()

    def options(f) -> str:
        start = page.index(f'id="owner-{f.pk}"')
        return page[start : page.index("</select>", start)]

    sam, ana = flag.owner, second.owner
    assert f'value="{ana.pk}">Ana &lt;Ops&gt;' in options(flag) and f'value="{sam.pk}"' not in options(flag)
    assert f'value="{sam.pk}">Sam Cole' in options(second) and f'value="{ana.pk}"' not in options(second)
    assert "Gone Person" not in page


def test_people_choices_cut_out_exactly_the_owners_option():
    from dashboard.selectors import PeopleChoices

    people = PeopleChoices(
        [
            {"id": 7, "name": "Ana", "title": "COO"},
            {"id": 3, "name": "Bo <b>", "title": ""},
            {"id": 12, "name": "Cy", "title": "VP"},
        ]
    )
    ana = '<option value="7">Ana, COO</option>'
    bo = '<option value="3">Bo &lt;b&gt;</option>'
    cy = '<option value="12">Cy, VP</option>'
    assert people.options_without(None) == ana + bo + cy
    assert people.options_without(99) == ana + bo + cy  # an owner who is not offered (inactive)
    assert people.options_without(7) == bo + cy
    assert people.options_without(3) == ana + cy
    assert people.options_without(12) == ana + bo
    assert people and not PeopleChoices([])
