"""Settings for a worker process in the fault tests: the product's settings plus tests.fault_app."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.fault_app"]
