import datetime as dt
from decimal import Decimal

import factory

from metrics.choices import Cadence, Direction, Kind, Level
from metrics.models import Exemption, Measurement, Metric, MetricRevision

from ..programs.factories import PersonFactory, ProgramFactory


class MetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Metric

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Metric {n}")
    level = Level.STRATEGIC
    kind = Kind.OUTCOME
    unit = "%"
    direction = Direction.INCREASE
    baseline = Decimal("50")
    baseline_on = dt.date(2024, 1, 1)
    target = Decimal("70")
    target_on = dt.date(2025, 1, 1)
    owner = factory.SubFactory(PersonFactory, organization=factory.SelfAttribute("..program.organization"))
    reporting_cadence = Cadence.MONTHLY


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    metric = factory.SubFactory(MetricFactory)
    organization_id = factory.LazyAttribute(lambda m: m.metric.program.organization_id)
    period_end = dt.date(2024, 6, 30)
    value = Decimal("60")
    source = "test"


class MetricRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricRevision

    metric = factory.SubFactory(MetricFactory)
    field = "target"
    old_value = "70"
    new_value = "60"
    reason = "test"


class ExemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exemption

    metric = factory.SubFactory(MetricFactory)
    person = factory.SubFactory(PersonFactory, organization=factory.SelfAttribute("..metric.program.organization"))
    reason = "Top seller this year"
    starts_on = dt.date(2024, 1, 1)
