"""`manage.py create_api_key --org SLUG --role ROLE --name NAME`: a key for an integration, printed once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from programs.choices import Role
from programs.models import ApiKey, Organization
from programs.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organization. The raw key is printed once and never stored."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="The organization's slug.")
        parser.add_argument("--role", required=True, help=f"One of: {', '.join(Role.values)}.")
        limit = ApiKey._meta.get_field("name").max_length
        parser.add_argument(
            "--name", required=True, help=f"What the key is for (at most {limit} characters), e.g. 'CRM sync'."
        )

    def handle(self, *args, org: str, role: str, name: str, **options) -> None:
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization with slug '{org}'.")
        if role not in Role.values:
            raise CommandError(f"Unknown role '{role}'. Use one of: {', '.join(Role.values)}.")
        if not name.strip():
            raise CommandError("Give the key a name.")
        try:
            key, raw = api_key_create(organization=organization, name=name.strip(), role=role)
        except ValidationError as error:
            # Each message after the option it is about ("--name: Ensure this value has at most...").
            fields = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
            raise CommandError(
                " ".join(f"--{field}: {m}" if field else m for field, messages in fields.items() for m in messages)
            ) from None
        self.stdout.write(f"API key {key.name!r} ({key.role}) for {organization.slug}, prefix {key.key_prefix}:")
        self.stdout.write(raw)
        self.stdout.write(self.style.WARNING("Store it now: only its hash is kept, it will not be shown again."))
