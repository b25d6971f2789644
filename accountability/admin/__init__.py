# The admin is split by area: forums and meetings, flags and risk.
from . import flags, forums, revisions  # noqa: F401
