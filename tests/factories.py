"""All factories in one import: `from tests.factories import ProgramFactory`."""

from .accountability.factories import *  # noqa: F403
from .metrics.factories import *  # noqa: F403
from .notifications.factories import *  # noqa: F403
from .programs.factories import *  # noqa: F403
