"""`manage.py create_organization NAME [--slug SLUG]`: create a tenant."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from programs.services import organization_create


class Command(BaseCommand):
    help = "Create an organization (a tenant). Prints its id and slug."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The organization's name, e.g. 'Northwind Mutual'.")
        parser.add_argument("--slug", help="URL-safe identifier (default: made from the name).")

    def handle(self, *args, name: str, slug: str | None, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("Give the organization a name.")
        try:
            organization = organization_create(name=name, slug=slug)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization {organization.name!r}: id {organization.pk}, slug {organization.slug}"
            )
        )
