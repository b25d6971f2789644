# The admin is split by area: forums and meetings, flags and risk, webhooks.
from . import flags, forums, webhooks  # noqa: F401
