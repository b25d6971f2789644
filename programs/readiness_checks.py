"""The readiness checks over a program's own rows: vision, business case, sponsor, an officer
as champion, a funded first stage. Registered from `ProgramsConfig.ready()`, as every app
registers its own (`programs.readiness`)."""

from django.db import models
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q, Subquery

from . import readiness
from .models import Person, RoadmapStage


def register() -> None:
    """Register the checks over the program's own rows (the other apps register theirs)."""

    def nonblank(field: str):
        return lambda: ExpressionWrapper(~Q(**{field: ""}), output_field=models.BooleanField())

    def first_stage_funded():
        first_sequence = (
            RoadmapStage.objects.filter(program=OuterRef(OuterRef("pk"))).order_by("sequence").values("sequence")[:1]
        )
        return Exists(
            RoadmapStage.objects.filter(program=OuterRef("pk"), sequence=Subquery(first_sequence), budget__gt=0)
        )

    for check in [
        readiness.ReadinessCheck("customer_vision", "A customer vision is written.", 10, nonblank("customer_vision")),
        readiness.ReadinessCheck("business_case", "A business case is written.", 20, nonblank("business_case")),
        readiness.ReadinessCheck(
            "sponsor",
            "An executive sponsor is named.",
            30,
            lambda: ExpressionWrapper(Q(executive_sponsor__isnull=False), output_field=models.BooleanField()),
        ),
        readiness.ReadinessCheck(
            "champion_officer",
            "The customer champion is an officer of the company.",
            40,
            lambda: Exists(Person.objects.filter(pk=OuterRef("customer_champion_id"), is_officer=True)),
        ),
        readiness.ReadinessCheck("funded_first_stage", "The first roadmap stage has a budget.", 70, first_stage_funded),
    ]:
        readiness.register(check)
