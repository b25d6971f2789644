from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs"

    def ready(self) -> None:
        # Importing connects the change log's receiver (it needs the models, so not before).
        from . import (
            changelog,  # noqa: F401
            readiness_checks,
        )

        readiness_checks.register()
