"""Pieces shared by the benchmark-data writers: the bulk writer, an organization's people, a batch."""

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, models

from programs.models import BusinessUnit, Organization, Person, Program

from .people import UNITS

SCALE_SLUG_PREFIX = "bench-"
BATCH = 5000

FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jia",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Yara",
    "Zed",
]
LAST = [
    "Adams",
    "Baker",
    "Cruz",
    "Dietrich",
    "Evans",
    "Fox",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okoro",
    "Patel",
    "Quist",
    "Rossi",
    "Singh",
    "Tan",
    "Usman",
    "Varga",
]


def insert_leaves(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> int:
    """Insert rows whose ids nobody needs: COPY on PostgreSQL, batched bulk_create elsewhere."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        columns = ", ".join(model._meta.get_field(f).column for f in fields)
        sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        model.objects.bulk_create((model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=BATCH)
    return len(rows)


class ScaleOrg:
    """One benchmark organization with its units and people (eight officers first)."""

    def __init__(self, name: str, rng: random.Random, people: int) -> None:
        self.rng = rng
        self.organization = Organization.objects.create(
            name=name, slug=SCALE_SLUG_PREFIX + name.lower().replace(" ", "-")
        )
        self.units = BusinessUnit.objects.bulk_create(
            BusinessUnit(organization=self.organization, name=u) for u in UNITS
        )
        self.people = Person.objects.bulk_create(
            (
                Person(
                    organization=self.organization,
                    name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    title="Chief Officer" if i < 8 else rng.choice(["Director", "Head", "Manager", "Lead"]),
                    is_officer=i < 8,
                    # A few people have left; troubled programs keep them as owners (metric_unowned).
                    active=i < 8 or rng.random() > 0.02,
                )
                for i in range(people)
            ),
            batch_size=BATCH,
        )
        self.officers = self.people[:8]
        self.active = [p for p in self.people if p.active]
        self.inactive = [p for p in self.people if not p.active] or self.active
        self.organization.ceo = self.officers[0]
        self.organization.save(update_fields=["ceo"])

    def person(self) -> Person:
        return self.rng.choice(self.active)


@dataclass
class Batch:
    """Programs written together, with each one's `trouble` in [0, 1] driving how often things go wrong."""

    org: ScaleOrg
    today: dt.date
    rng: random.Random
    programs: list[Program] = field(default_factory=list)
    trouble: dict[int, float] = field(default_factory=dict)

    def chance(self, program_id: int, base: float, per_trouble: float) -> bool:
        """True with probability base + per_trouble × the program's trouble."""
        return self.rng.random() < base + per_trouble * self.trouble[program_id]
