from django.db import models


class Level(models.TextChoices):
    STRATEGIC = "strategic", "Strategic"
    TACTICAL = "tactical", "Tactical"
    OPERATIONAL = "operational", "Operational"


# Higher number = higher in the cascade; a parent's rank is >= its child's.
LEVEL_RANK = {Level.STRATEGIC: 3, Level.TACTICAL: 2, Level.OPERATIONAL: 1}


class Kind(models.TextChoices):
    OUTCOME = "outcome", "Business outcome (revenue, retention, cost, risk)"
    PERCEPTION = "perception", "Customer perception (NPS, CSAT, effort)"
    OPERATIONAL = "operational", "Operational (resolution rate, wait time)"


class Direction(models.TextChoices):
    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.MONTHLY: 30, Cadence.QUARTERLY: 91}


class MetricStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Health(models.TextChoices):
    NO_DATA = "no_data", "No data"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"


# Changing one of these needs a reason and writes a MetricRevision: what is asked (target,
# date, pay, owner, status) and what it is measured against and means (baseline, direction,
# unit, level, kind): moving either quietly changes what the metric holds people to.
GUARDED_FIELDS = (
    "target",
    "target_on",
    "incentive_weight",
    "owner",
    "status",
    "baseline",
    "baseline_on",
    "direction",
    "unit",
    "level",
    "kind",
)
# The same fields in plain words, for messages and help texts.
GUARDED_FIELDS_TEXT = (
    "the target, target date, incentive weight, owner, status, baseline, baseline date, direction, unit, level or kind"
)
# Kinds from the strongest tie to business results to the weakest (replaced_by_easier).
KIND_RANK = {Kind.OUTCOME: 3, Kind.PERCEPTION: 2, Kind.OPERATIONAL: 1}
