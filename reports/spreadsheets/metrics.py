"""The metrics import: the cascade by names, owners by email, guarded changes with a reason.

A row is a metric of a program (both by name). `parent` and `replaced_by` name a metric of
the same program, in the database or earlier or later in the file (those are written first);
`owner` is a person's email, `business_unit` a unit's name, in the program's organization.
A new metric is created with its history row; an existing one (same program and name) is
changed by `metric_update`, so a change of a guarded field (target, owner, status...) needs
the row's `change_reason` and writes its revision. Unchanged rows write nothing.

The preview runs the same writes in a transaction rolled back at the end, so what it
reports is what the services decide; the confirmation runs them for good, all or nothing.
"""

from decimal import Decimal, InvalidOperation

from metrics.choices import GUARDED_FIELDS, Cadence, Direction, Kind, Level, MetricStatus
from metrics.models import Metric
from metrics.services import guarded_changes, metric_update
from programs.actors import stamp
from programs.models import BusinessUnit, Person, Program
from programs.numbers import is_digits

from .files import date_cell
from .imports import (
    NEW,
    UNCHANGED,
    UPDATE,
    PlannedRow,
    RowByRowResource,
    RowRefused,
    office_organization_ids,
    parents_first,
)
from .measurements import IMPORT_REASON, _text

CHOICES = {
    "level": Level,
    "kind": Kind,
    "direction": Direction,
    "reporting_cadence": Cadence,
    "status": MetricStatus,
}
DECIMALS = ("baseline", "target")
DATES = ("baseline_on", "target_on")
TEXTS = ("description", "unit")


class MetricResource(RowByRowResource):
    sheet_name = "metrics"
    required = ("program", "name", "level", "kind")
    optional = (
        "parent",
        "replaced_by",
        "description",
        "unit",
        "direction",
        "baseline",
        "baseline_on",
        "target",
        "target_on",
        "owner",
        "business_unit",
        "incentive_weight",
        "reporting_cadence",
        "status",
        "change_reason",
    )
    example = {
        "program": "Customer Onboarding",
        "name": "Net promoter score",
        "level": "strategic",
        "kind": "perception",
        "direction": "increase",
        "baseline": "20",
        "baseline_on": "2026-01-31",
        "target": "45",
        "target_on": "2026-12-31",
        "owner": "owner@example.com",
        "incentive_weight": "10",
        "reporting_cadence": "monthly",
        "status": "active",
        "replaced_by": "",
        "change_reason": "",
    }
    #: Columns naming another metric of the same program, resolved when the row is written.
    METRIC_REFERENCES = ("parent", "replaced_by")

    # --- reading the rows -----------------------------------------------------------------
    def _fields(self, row: PlannedRow, people: dict, units: dict, organization_id: int | None) -> dict:
        """The model values the row sets (only the columns it has), or errors on `row`."""
        values, fields = row.values, {}
        for column, choices in CHOICES.items():
            if column in values and _text(values[column]) != "":
                text = _text(values[column]).lower()
                if text in choices.values:
                    fields[column] = text
                else:
                    row.errors[column] = [f"{text!r} is not one of: {', '.join(choices.values)}."]
        for column in DECIMALS:
            if column in values:
                text = _text(values[column])
                try:
                    fields[column] = Decimal(text) if text else None
                except InvalidOperation:
                    row.errors[column] = ["A number is required."]
        for column in DATES:
            if column in values:
                if _text(values[column]) == "":
                    fields[column] = None
                else:
                    day = date_cell(values[column])
                    if isinstance(day, str):
                        row.errors[column] = [day]
                    else:
                        fields[column] = day
        for column in TEXTS:
            if column in values:
                fields[column] = _text(values[column])
        if "incentive_weight" in values:
            text = _text(values["incentive_weight"]) or "0"
            if is_digits(text) and int(text) <= 100:
                fields["incentive_weight"] = int(text)
            else:
                row.errors["incentive_weight"] = ["A whole number from 0 to 100 is required."]
        if "owner" in values:
            email = _text(values["owner"]).lower()
            if not email:
                fields["owner"] = None
            elif organization_id is None:
                pass  # no program, so no organization to look in: the program's error says so
            elif (organization_id, email) in people:
                fields["owner"] = people[(organization_id, email)]
            else:
                row.errors["owner"] = [f"No person with the email {email!r} in the program's organization."]
        if "business_unit" in values:
            name = _text(values["business_unit"])
            if not name:
                fields["business_unit"] = None
            elif organization_id is None:
                pass
            elif (organization_id, name) in units:
                fields["business_unit"] = units[(organization_id, name)]
            else:
                row.errors["business_unit"] = [f"No business unit named {name!r} in the program's organization."]
        return fields

    def prepare(self, rows: list[PlannedRow], user) -> None:
        scope = office_organization_ids(user)
        programs = Program.objects.all() if scope is None else Program.objects.filter(organization_id__in=scope)
        program_names = {_text(row.values.get("program")) for row in rows}
        by_name: dict[str, list[Program]] = {}
        for program in programs.filter(name__in=program_names):
            by_name.setdefault(program.name, []).append(program)
        organizations = {p.organization_id for ps in by_name.values() for p in ps}
        people = {
            (person.organization_id, person.email.lower()): person
            for person in Person.objects.filter(organization_id__in=organizations).exclude(email="")
        }
        units = {(u.organization_id, u.name): u for u in BusinessUnit.objects.filter(organization_id__in=organizations)}
        seen: dict[tuple[int, str], int] = {}
        self.file_rows: dict[tuple[int, str], PlannedRow] = {}
        for row in rows:
            name = _text(row.values.get("name"))
            program_name = _text(row.values.get("program"))
            found = by_name.get(program_name, [])
            if not name:
                row.errors["name"] = ["This field is required."]
            if len(found) != 1:
                row.errors["program"] = [
                    f"{len(found)} programs are named {program_name!r}."
                    if found
                    else f"No program named {program_name!r} in your organizations."
                ]
                self._fields(row, people, units, None)  # every other column is checked all the same
                continue
            program = found[0]
            row.item = {
                "program": program,
                "name": name,
                "fields": self._fields(row, people, units, program.organization_id),
            }
            key = (program.pk, name)
            if key in seen:
                row.errors["name"] = [f"Duplicate of row {seen[key]}: one row per metric of a program."]
            seen[key] = row.number
            self.file_rows.setdefault(key, row)

    # --- writing ---------------------------------------------------------------------------
    def start(self, rows: list[PlannedRow], user) -> dict:
        programs = {row.item["program"] for row in rows}
        return {(m.program_id, m.name): m for m in Metric.objects.filter(program__in=programs).select_related("owner")}

    def ordered(self, rows: list[PlannedRow]) -> list[PlannedRow]:
        # A parent and a replacement named in the file are written before the rows naming them.
        return parents_first(
            rows,
            key_of=lambda row: (row.item["program"].pk, row.item["name"]),
            parents_of=lambda row: [
                (row.item["program"].pk, _text(row.values.get(column))) for column in self.METRIC_REFERENCES
            ],
        )

    def _reference(self, row: PlannedRow, column: str, existing: dict):
        """The metric `column` names (same program: in the database or written from the file)."""
        program, wanted = row.item["program"], _text(row.values[column])
        if not wanted:
            return None
        if column == "replaced_by" and wanted == row.item["name"]:
            row.errors[column] = ["The replacement must be another metric of the same program."]
        elif (program.pk, wanted) in existing:
            return existing[(program.pk, wanted)]
        elif (defined := getattr(self, "file_rows", {}).get((program.pk, wanted))) is not None and defined.errors:
            row.errors[column] = [f"{wanted!r} is row {defined.number}, which is in error: correct that row first."]
        else:
            row.errors[column] = [f"No metric named {wanted!r} in {program.name}."]
        return None

    def write_row(self, row: PlannedRow, existing: dict, user) -> None:
        program, name, fields = row.item["program"], row.item["name"], dict(row.item["fields"])
        for column in self.METRIC_REFERENCES:
            if column in row.values:
                fields[column] = self._reference(row, column, existing)
        if row.errors:
            raise RowRefused
        reason = _text(row.values.get("change_reason"))
        metric = existing.get((program.pk, name))
        if metric is None:
            metric = Metric(program=program, name=name, **fields)
            metric.full_clean()
            stamp(metric, user)
            metric._change_reason = IMPORT_REASON
            metric.save()
            existing[(program.pk, name)] = metric
            row.kind = NEW
            return
        changes = {k: v for k, v in fields.items() if self._differs(metric, k, v)}
        if not changes:
            row.kind = UNCHANGED
            return
        if guarded_changes(metric, changes) and not reason:
            guarded = ", ".join(field for field in changes if field in GUARDED_FIELDS)
            row.errors["change_reason"] = [f"Changing {guarded} needs a reason in the change_reason column."]
            raise RowRefused
        metric_update(metric=metric, changes=changes, reason=reason or IMPORT_REASON, actor=user)
        row.kind = UPDATE

    @staticmethod
    def _differs(metric: Metric, field: str, value) -> bool:
        old = getattr(metric, field)
        if isinstance(old, Decimal) or isinstance(value, Decimal):
            return (old is None) != (value is None) or (old is not None and Decimal(old) != Decimal(value))
        if field in ("parent", "replaced_by", "owner", "business_unit"):
            return getattr(old, "pk", None) != getattr(value, "pk", None)
        return (old or "") != (value or "") if isinstance(old, str) or isinstance(value, str) else old != value
