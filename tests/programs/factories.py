import datetime as dt

import factory
from django.contrib.auth import get_user_model

from programs.choices import InitiativeStatus, ProgramStatus, Rag, Role, StageStatus
from programs.models import (
    ApiKey,
    BusinessUnit,
    CommitmentAssessment,
    Initiative,
    Membership,
    Organization,
    Person,
    Program,
    ProgressUpdate,
    RoadmapStage,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-only")
    is_staff = True

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OFFICE


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """Build with `ApiKeyFactory(raw="...")`; the raw key is on `obj.raw_key`."""

    class Meta:
        model = ApiKey
        exclude = ["raw"]
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"key {n}")
    role = Role.INTEGRATION
    raw = factory.LazyFunction(ApiKey.generate)
    key_prefix = factory.LazyAttribute(lambda o: o.raw[:10])
    key_hash = factory.LazyAttribute(lambda o: ApiKey.hash(o.raw))

    @factory.post_generation
    def raw_key(obj, create, extracted, **kwargs):
        obj.raw_key = extracted


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    title = "Director"


class BusinessUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessUnit

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Unit {n}")


class ProgramFactory(factory.django.DjangoModelFactory):
    """An active, well-set-up program (status set directly: tests of the transition
    service start from `status=ProgramStatus.DRAFT`)."""

    class Meta:
        model = Program

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Program {n}")
    customer_vision = "Customers resolve any issue in one contact."
    business_case = "Retention +3 points is worth $12M a year."
    executive_sponsor = factory.SubFactory(
        PersonFactory, organization=factory.SelfAttribute("..organization"), title="CEO", is_officer=True
    )
    customer_champion = factory.SubFactory(
        PersonFactory,
        organization=factory.SelfAttribute("..organization"),
        title="Chief Customer Officer",
        is_officer=True,
    )
    champion_time_pct = 80
    status = ProgramStatus.ACTIVE
    started_on = dt.date(2024, 1, 1)


class RoadmapStageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoadmapStage

    program = factory.SubFactory(ProgramFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Stage {n}")
    budget = 100000
    status = StageStatus.PLANNED


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Initiative

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Initiative {n}")
    owner = factory.SubFactory(PersonFactory, organization=factory.SelfAttribute("..program.organization"))
    status = InitiativeStatus.IN_PROGRESS
    starts_on = dt.date(2024, 1, 1)


class ProgressUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgressUpdate

    initiative = factory.SubFactory(InitiativeFactory)
    author = factory.SelfAttribute("initiative.owner")
    reported_on = dt.date(2024, 2, 1)
    rag = Rag.GREEN
    percent_complete = 10


class CommitmentAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitmentAssessment

    program = factory.SubFactory(ProgramFactory)
    assessed_on = dt.date(2024, 6, 1)
    assessor = factory.SelfAttribute("program.customer_champion")
    clear_destination = 4
    understands_scope = 4
    builds_new_skills = 4
    commits_resources = 4
    true_partner = 4
    insists_on_patience = 4
    pushes_customer_metrics = 4
    drives_reliability = 4
    defines_differentiation = 4
