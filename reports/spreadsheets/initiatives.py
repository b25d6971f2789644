"""The initiatives import, with their progress updates.

A row is an initiative of a program (both by name): `owner` a person's email, `status`,
`starts_on`, `due_on`, `description`. When the row also has `reported_on` (with `rag`,
`percent_complete`, `author` by email and `note`), it records that progress update through
`progress_update_create` (which moves the initiative's percent when it is the latest). An
initiative may take several rows, one per update, as long as they agree on its fields. An
update of the same initiative and date that exists already is unchanged when identical;
a different one is refused (updates are records: correct them in the admin).
"""

from programs.actors import stamp
from programs.choices import InitiativeStatus, Rag
from programs.models import Initiative, Person, Program, ProgressUpdate
from programs.numbers import is_digits
from programs.services import progress_update_create

from .files import date_cell
from .imports import NEW, UNCHANGED, UPDATE, PlannedRow, RowByRowResource, RowRefused, office_organization_ids
from .measurements import IMPORT_REASON, _text

INITIATIVE_FIELDS = ("owner", "status", "starts_on", "due_on", "description")
UPDATE_FIELDS = ("reported_on", "rag", "percent_complete", "author", "note")


class InitiativeResource(RowByRowResource):
    sheet_name = "initiatives"
    required = ("program", "name", "owner")
    optional = ("status", "starts_on", "due_on", "description", *UPDATE_FIELDS)
    example = {
        "program": "Customer Onboarding",
        "name": "Digital onboarding journey",
        "owner": "owner@example.com",
        "status": "in_progress",
        "starts_on": "2026-01-05",
        "due_on": "2026-09-30",
        "description": "",
        "reported_on": "2026-03-31",
        "rag": "green",
        "percent_complete": "35",
        "author": "owner@example.com",
        "note": "Pilot branch live",
    }

    def _person(self, row, column, people, organization_id):
        if organization_id is None:
            return None  # no program, so no organization to look in: the program's error says so
        email = _text(row.values.get(column)).lower()
        person = people.get((organization_id, email))
        if person is None:
            row.errors[column] = [f"No person with the email {email!r} in the program's organization."]
        return person

    def prepare(self, rows: list[PlannedRow], user) -> None:
        scope = office_organization_ids(user)
        programs = Program.objects.all() if scope is None else Program.objects.filter(organization_id__in=scope)
        by_name: dict[str, list[Program]] = {}
        for program in programs.filter(name__in={_text(row.values.get("program")) for row in rows}):
            by_name.setdefault(program.name, []).append(program)
        organizations = {p.organization_id for found in by_name.values() for p in found}
        people = {
            (p.organization_id, p.email.lower()): p
            for p in Person.objects.filter(organization_id__in=organizations).exclude(email="")
        }
        first_fields: dict[tuple, tuple[int, dict]] = {}
        for row in rows:
            program_name, name = _text(row.values.get("program")), _text(row.values.get("name"))
            found = by_name.get(program_name, [])
            program = found[0] if len(found) == 1 else None
            if program is None:
                # Reported, and every other column is checked all the same (but the emails).
                row.errors["program"] = [
                    f"{len(found)} programs are named {program_name!r}."
                    if found
                    else f"No program named {program_name!r} in your organizations."
                ]
            if not name:
                row.errors["name"] = ["This field is required."]
            organization_id = program.organization_id if program is not None else None
            fields = {"owner": self._person(row, "owner", people, organization_id)}
            status = _text(row.values.get("status")).lower()
            if status:
                if status in InitiativeStatus.values:
                    fields["status"] = status
                else:
                    row.errors["status"] = [f"{status!r} is not one of: {', '.join(InitiativeStatus.values)}."]
            for column in ("starts_on", "due_on"):
                if column in row.values:
                    fields[column] = None
                    if _text(row.values[column]):
                        day = date_cell(row.values[column])
                        if isinstance(day, str):
                            row.errors[column] = [day]
                        else:
                            fields[column] = day
            if "description" in row.values:
                fields["description"] = _text(row.values["description"])
            update = None
            if _text(row.values.get("reported_on")):
                update = self._update(row, people, organization_id)
            if program is None:
                continue
            row.item = {"program": program, "name": name, "fields": fields, "update": update}
            key = (program.pk, name)
            if key in first_fields and not row.errors and first_fields[key][1] != fields:
                row.errors["name"] = [f"Row {first_fields[key][0]} gives this initiative other values."]
            first_fields.setdefault(key, (row.number, fields))

    def _update(self, row: PlannedRow, people: dict, organization_id: int) -> dict:
        reported_on = date_cell(row.values.get("reported_on"))
        if isinstance(reported_on, str):
            row.errors["reported_on"] = [reported_on]
        rag = _text(row.values.get("rag")).lower()
        if rag not in Rag.values:
            row.errors["rag"] = [f"{rag!r} is not one of: {', '.join(Rag.values)}."]
        percent = _text(row.values.get("percent_complete"))
        if not (is_digits(percent) and int(percent) <= 100):
            row.errors["percent_complete"] = ["A whole number from 0 to 100 is required."]
        column = "author" if _text(row.values.get("author")) else "owner"
        author = self._person(row, column, people, organization_id)
        return {
            "reported_on": reported_on,
            "rag": rag,
            "percent_complete": int(percent) if is_digits(percent) else None,
            "author": author,
            "note": _text(row.values.get("note")),
        }

    def start(self, rows: list[PlannedRow], user) -> dict:
        programs = {row.item["program"] for row in rows}
        initiatives = {(i.program_id, i.name): i for i in Initiative.objects.filter(program__in=programs)}
        updates = {
            (u.initiative_id, u.reported_on): u
            for u in ProgressUpdate.objects.filter(initiative__in=list(initiatives.values()))
        }
        return {"initiatives": initiatives, "updates": updates}

    def write_row(self, row: PlannedRow, state: dict, user) -> None:
        program, name, fields = row.item["program"], row.item["name"], row.item["fields"]
        initiative = state["initiatives"].get((program.pk, name))
        if initiative is None:
            initiative = Initiative(program=program, name=name, **fields)
            row.kind = NEW
        else:
            changed = {k: v for k, v in fields.items() if getattr(initiative, k) != v}
            row.kind = UPDATE if changed else UNCHANGED
            for key, value in changed.items():
                setattr(initiative, key, value)
        if row.kind != UNCHANGED:
            initiative.full_clean()
            stamp(initiative, user)
            initiative._change_reason = IMPORT_REASON
            initiative.save()
            state["initiatives"][(program.pk, name)] = initiative
        update = row.item["update"]
        if update is None:
            return
        existing = state["updates"].get((initiative.pk, update["reported_on"]))
        if existing is not None:
            same = all(getattr(existing, key) == value for key, value in update.items())
            if not same:
                row.errors["reported_on"] = [
                    f"A different progress update of {update['reported_on']} exists: updates are records, "
                    "correct it in the admin."
                ]
                raise RowRefused
            return
        written = progress_update_create(initiative=initiative, **update)
        state["updates"][(initiative.pk, written.reported_on)] = written
        if row.kind == UNCHANGED:
            row.kind = NEW  # the row adds a progress update
