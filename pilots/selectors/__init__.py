"""Reads, always scoped to a pilot or workspace the caller has already been checked against."""

from pilots.selectors.cases import *  # noqa: F403
from pilots.selectors.pilots import *  # noqa: F403
from pilots.selectors.portfolio import *  # noqa: F403
from pilots.selectors.readiness import *  # noqa: F403
