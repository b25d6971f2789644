"""Northwind Mutual's organization chart, business units and the two demo logins."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from programs.choices import Role
from programs.models import BusinessUnit, Membership, Organization, Person
from programs.services import organization_create

from . import DEMO_CEO_USER, DEMO_OFFICE_USER, DEMO_ORG_NAME, DEMO_ORG_SLUG, DEMO_PASSWORD

UNITS = ["Sales", "Operations", "Customer Service", "Claims", "Digital", "Underwriting", "Finance", "Marketing"]

# key: (name, title, is_officer, reports_to key, active)
PEOPLE: dict[str, tuple[str, str, bool, str | None, bool]] = {
    "ceo": ("Margaret Okafor", "Chief Executive Officer", True, None, True),
    "cco": ("Elena Marsh", "Chief Customer Officer", True, "ceo", True),
    "coo": ("Victor Lindqvist", "Chief Operating Officer", True, "ceo", True),
    "cfo": ("Harold Brandt", "Chief Financial Officer", True, "ceo", True),
    "cmo": ("Tom Becker", "Chief Marketing Officer", True, "ceo", True),
    "cio": ("Kwame Asante", "Chief Information Officer", True, "ceo", True),
    "deputy_coo": ("Ethan Park", "Deputy COO", False, "coo", True),
    "service_head": ("Priya Raman", "Head of Service Experience", False, "coo", True),
    "claims_vp": ("Samuel Ortiz", "VP Claims", False, "coo", True),
    "claims_ops": ("Liam O'Connor", "Claims Operations Manager", False, "claims_vp", True),
    "contact_centres": ("Aisha Karimi", "Director, Contact Centres", False, "service_head", True),
    "digital_head": ("Grace Liu", "Head of Digital Channels", False, "cmo", True),
    "underwriting": ("Daniel Mensah", "Director, Underwriting Operations", False, "coo", True),
    "insight": ("Hannah Vogel", "Customer Insight Lead", False, "cco", True),
    "finance_bp": ("Rafael Costa", "Finance Business Partner", False, "cfo", True),
    "branches": ("Chloe Dubois", "Head of Branch Network", False, "coo", True),
    "quality": ("Noah Fischer", "Service Quality Analyst", False, "service_head", True),
    "star_seller": ("Dana Whitfield", "Senior Account Executive", False, "sales_director", True),
    "sales_director": ("Ben Adeyemi", "Sales Director", False, "cmo", True),
    "former_digital": ("Marcus Reed", "Digital Self-Service Lead (left in spring)", False, "digital_head", False),
    "crm_owner": ("Yuki Tanaka", "CRM Product Owner", False, "cio", True),
    "program_office": ("Olivia Grant", "Program Office Lead", False, "cco", True),
    "hr": ("Isabel Moreno", "Head of People", False, "ceo", True),
    "onboarding_ops": ("Sofia Rossi", "Onboarding Operations Manager", False, "coo", True),
    "claims_adjuster_lead": ("Mateo Silva", "Lead Claims Adjuster", False, "claims_ops", True),
    "complaints": ("Fatima Noor", "Complaints Manager", False, "service_head", True),
}


@dataclass
class Cast:
    """The organization and everybody the stories refer to, by key."""

    organization: Organization
    people: dict[str, Person]
    units: dict[str, BusinessUnit]

    def __getitem__(self, key: str) -> Person:
        return self.people[key]

    def unit(self, name: str) -> BusinessUnit:
        return self.units[name]


def build_cast() -> Cast:
    """Create Northwind Mutual, its units and people, with the CEO set on the organization."""
    organization = organization_create(name=DEMO_ORG_NAME, slug=DEMO_ORG_SLUG)
    units = {
        u.name: u
        for u in BusinessUnit.objects.bulk_create(BusinessUnit(organization=organization, name=n) for n in UNITS)
    }
    people: dict[str, Person] = {}
    for key, (name, title, officer, _, active) in PEOPLE.items():
        email = name.lower().replace(" ", ".").replace("'", "") + "@northwind.example"
        people[key] = Person(
            organization=organization, name=name, title=title, email=email, is_officer=officer, active=active
        )
    Person.objects.bulk_create(people.values())
    for key, (*_, boss, _active) in PEOPLE.items():
        if boss:
            people[key].reports_to = people[boss]
    Person.objects.bulk_update(people.values(), ["reports_to"])
    organization.ceo = people["ceo"]
    organization.save(update_fields=["ceo"])
    # The monthly board pack goes to the CEO and the CFO (every person has a calendar token by default).
    organization.board_recipients.set([people["ceo"], people["cfo"]])
    return Cast(organization=organization, people=people, units=units)


def build_demo_users(cast: Cast) -> None:
    """office@demo (program office, staff) and ceo@demo (executive, linked to the CEO), known password.

    Re-running resets their password and memberships; the caller has checked DEBUG.
    """
    User = get_user_model()
    for username, role, person_key, first, last in (
        (DEMO_OFFICE_USER, Role.OFFICE, "program_office", "Olivia", "Grant"),
        (DEMO_CEO_USER, Role.EXECUTIVE, "ceo", "Margaret", "Okafor"),
    ):
        user, _ = User.objects.get_or_create(username=username)
        user.email = username.replace("@demo", "@northwind.example")
        user.first_name, user.last_name = first, last
        # Staff so both can open the admin: the office edits, the executive reads (role-based).
        user.is_staff = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        Membership.objects.update_or_create(user=user, organization=cast.organization, defaults={"role": role})
        person = cast[person_key]
        person.user = user
        person.save(update_fields=["user"])
