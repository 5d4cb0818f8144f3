"""Find each installed app's optional modules (DESIGN.md "Architecture": discovery)."""

from importlib import import_module
from types import ModuleType

from django.apps import apps
from django.utils.module_loading import module_has_submodule


def app_modules(name: str) -> list[ModuleType]:
    """The `name` module of every installed app that has one, in INSTALLED_APPS order (the hub first)."""
    found = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, name):
            found.append(import_module(f"{config.name}.{name}"))
    return found
