# The admin is split by area: forums and meetings, flags and risk.
from . import comments, flags, forums  # noqa: F401
