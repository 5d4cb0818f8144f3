"""Forms by feature: pilots and gates, the input standard editor, cases and uploads."""

from pilots.forms.pilots import *  # noqa: F403
