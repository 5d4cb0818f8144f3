"""Find each installed app's optional modules (DESIGN.md "Architecture": discovery)."""

from functools import cache
from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.utils.module_loading import module_has_submodule


def app_modules(name: str) -> tuple[ModuleType, ...]:
    """The `name` module of every installed app that has one, in INSTALLED_APPS order (the hub first).
    Looked up once per name: the installed apps do not change while the process runs."""
    return _app_modules(name) if apps.ready else _find(name)


@cache
def _app_modules(name: str) -> tuple[ModuleType, ...]:
    return _find(name)


def _find(name: str) -> tuple[ModuleType, ...]:
    return tuple(
        import_module(f"{config.name}.{name}")
        for config in apps.get_app_configs()
        if module_has_submodule(config.module, name)
    )
