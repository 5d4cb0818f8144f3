from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules

# The modules each app may provide; the hub finds them as the admin finds admin.py (DESIGN.md).
DISCOVERED_AT_STARTUP = ("readiness", "intake", "outcomes")


class PilotsConfig(AppConfig):
    name = "pilots"
    verbose_name = "Pilots (hub)"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from pilots import lookups  # noqa: F401 (registers `__any_of`)
        from pilots.aggregates import register_sqlite_median

        connection_created.connect(register_sqlite_median, dispatch_uid="prodready-sqlite-median")

        autodiscover_modules(*DISCOVERED_AT_STARTUP)
