from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

# The modules each app may provide; the hub finds them as the admin finds admin.py (DESIGN.md).
DISCOVERED_AT_STARTUP = ("readiness", "intake", "outcomes")


class PilotsConfig(AppConfig):
    name = "pilots"
    verbose_name = "Pilots (hub)"

    def ready(self) -> None:
        from pilots import lookups  # noqa: F401 (registers `__any_of`)

        autodiscover_modules(*DISCOVERED_AT_STARTUP)
