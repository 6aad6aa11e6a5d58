"""The project's own Django apps, read from INSTALLED_APPS (so a new app is covered without a list to edit)."""

from pathlib import Path

from django.apps import apps

from tests.helpers.processes import ROOT


def local_apps() -> tuple[str, ...]:
    """The top-level packages of the installed apps that live in this repository."""
    return tuple(
        sorted(
            config.name.split(".")[0]
            for config in apps.get_app_configs()
            if Path(config.path).is_relative_to(ROOT) and "site-packages" not in Path(config.path).parts
        )
    )
