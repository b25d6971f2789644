"""`manage.py create_organization NAME [--slug SLUG]`: create a tenant."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from programs.models import Organization
from programs.services import organization_create


def one_line(error: ValidationError, labels: dict[str, str]) -> str:
    """The refusal on one line, each message after the argument it is about (`labels`: how
    the command's user wrote each field)."""
    if not hasattr(error, "error_dict"):
        return " ".join(error.messages)
    return " ".join(
        f"{labels.get(field, field)}: {message}"
        for field, messages in error.message_dict.items()
        for message in messages
    )


class Command(BaseCommand):
    help = "Create an organization (a tenant). Prints its id and slug."

    def add_arguments(self, parser) -> None:
        field = Organization._meta.get_field
        parser.add_argument(
            "name",
            help=f"The organization's name (at most {field('name').max_length} characters), e.g. 'Northwind Mutual'.",
        )
        parser.add_argument(
            "--slug",
            help=f"URL-safe identifier: letters, digits, '-' and '_', at most {field('slug').max_length} "
            "(default: made from the name).",
        )

    def handle(self, *args, name: str, slug: str | None, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("Give the organization a name.")
        if slug is not None and not slug.strip():
            # An empty --slug is a mistake in a script, not a request for the default.
            raise CommandError("--slug is empty: give a slug, or leave --slug out to make one from the name.")
        try:
            organization = organization_create(name=name, slug=slug)
        except ValidationError as error:
            labels = {"name": "NAME", "slug": "--slug" if slug else "slug made from NAME"}
            raise CommandError(one_line(error, labels)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization {organization.name!r}: id {organization.pk}, slug {organization.slug}"
            )
        )
