"""The people import: `name,email,title,is_officer,reports_to,active` (+ `organization`).

A person is matched by email (case aside) within the organization, else by name; a new
one is created. `reports_to` is a manager's email, in the database or in the file
(managers are written first). `organization` is the organization's slug, needed only by
an importer who runs the office of several. Each write is the model's own
(`full_clean`, `save`) with the history row naming the importer, as the admin form does.
"""

from programs.actors import stamp
from programs.models import Organization, Person

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

_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


def _flag(row: PlannedRow, column: str, default: bool) -> bool | None:
    if column not in row.values:
        return default
    text = _text(row.values[column]).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else default
    row.errors[column] = ["Yes or no (true/false, 1/0) is required."]
    return None


class PersonResource(RowByRowResource):
    sheet_name = "people"
    required = ("name",)
    optional = ("email", "title", "is_officer", "reports_to", "active", "organization")
    example = {
        "name": "Ana Lima",
        "email": "ana.lima@example.com",
        "title": "Chief Customer Officer",
        "is_officer": "yes",
        "reports_to": "ceo@example.com",
        "active": "yes",
        "organization": "",
    }

    def prepare(self, rows: list[PlannedRow], user) -> None:
        scope = office_organization_ids(user)
        organizations = Organization.objects.all() if scope is None else Organization.objects.filter(pk__in=scope)
        by_slug = {o.slug: o for o in organizations}
        only = next(iter(by_slug.values())) if len(by_slug) == 1 else None
        seen: dict[tuple[int, str], int] = {}
        self.file_rows: dict[tuple[int, str], PlannedRow] = {}
        for row in rows:
            slug = _text(row.values.get("organization"))
            organization = by_slug.get(slug) if slug else only
            if organization is None:
                row.errors["organization"] = [
                    f"No organization {slug!r} among those you run."
                    if slug
                    else "You run the office of several organizations: name one (its slug) in the organization column."
                ]
            name = _text(row.values.get("name"))
            if not name:
                row.errors["name"] = ["This field is required."]
            email = _text(row.values.get("email")).lower()
            fields = {
                "name": name,
                "is_officer": _flag(row, "is_officer", False),
                "active": _flag(row, "active", True),
            }
            if "email" in row.values:
                fields["email"] = email
            if "title" in row.values:
                fields["title"] = _text(row.values["title"])
            row.item = {"organization": organization, "key": email or name.lower(), "fields": fields}
            if organization is not None:
                key = (organization.pk, row.item["key"])
                if key in seen:
                    row.errors["email" if email else "name"] = [f"Duplicate of row {seen[key]}: one row per person."]
                seen[key] = row.number
                self.file_rows.setdefault(key, row)

    def start(self, rows: list[PlannedRow], user) -> dict:
        organizations = {row.item["organization"].pk for row in rows}
        state: dict = {}
        for person in Person.objects.filter(organization_id__in=organizations).select_related("reports_to"):
            # By email first; a person without one by name (the first of a name wins).
            if person.email:
                state.setdefault((person.organization_id, person.email.lower()), person)
            state.setdefault((person.organization_id, person.name.lower()), person)
        return state

    def ordered(self, rows: list[PlannedRow]) -> list[PlannedRow]:
        return parents_first(
            rows,
            key_of=lambda row: (row.item["organization"].pk, row.item["key"]),
            parents_of=lambda row: [(row.item["organization"].pk, _text(row.values.get("reports_to")).lower())],
        )

    def write_row(self, row: PlannedRow, state: dict, user) -> None:
        organization, fields = row.item["organization"], dict(row.item["fields"])
        if "reports_to" in row.values:
            email = _text(row.values["reports_to"]).lower()
            manager = state.get((organization.pk, email)) if email else None
            if email and manager is None:
                defined = getattr(self, "file_rows", {}).get((organization.pk, email))
                row.errors["reports_to"] = [
                    f"{email!r} is row {defined.number}, which is in error: correct that row first."
                    if defined is not None and defined.errors
                    else f"No person with the email {email!r} in {organization.name}."
                ]
                raise RowRefused
            fields["reports_to"] = manager
        person = state.get((organization.pk, row.item["key"]))
        if person is None:
            person = Person(organization=organization, **fields)
            row.kind = NEW
        else:
            changed = {k: v for k, v in fields.items() if getattr(person, k) != v}
            if not changed:
                row.kind = UNCHANGED
                return
            for key, value in changed.items():
                setattr(person, key, value)
            row.kind = UPDATE
        person.full_clean(exclude=["user"])
        stamp(person, user)
        person._change_reason = IMPORT_REASON
        person.save()
        if person.email:
            state[(organization.pk, person.email.lower())] = person
        state[(organization.pk, person.name.lower())] = person
