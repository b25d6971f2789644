# The admin is split by area: forums and meetings, flags and risk, comments, revisions as sentences.
from . import comments, flags, forums, revisions  # noqa: F401
