"""Every test file in the repository is collected by a plain `pytest` (make test, CI): none is silently left out."""

import fnmatch
import glob
from pathlib import Path

import pytest

from tests.helpers.apps import local_apps
from tests.helpers.processes import ROOT

_NEVER_TESTS = {"node_modules", "__pycache__"}


def _test_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("test_*.py")
        if not any(part.startswith(".") or part in _NEVER_TESTS for part in path.relative_to(ROOT).parts)
    )


def _collected_by_default(path: Path, config: pytest.Config) -> bool:
    """What pytest does without arguments: start from each of `testpaths` (globbed), descend into every directory
    its ignore rules (norecursedirs, collect_ignore, virtualenvs) allow, take files named like `python_files`."""
    starts = [
        (config.rootpath / match).resolve()
        for pattern in config.getini("testpaths")
        for match in glob.glob(pattern, root_dir=config.rootpath, recursive=True)
    ]
    start = next((s for s in starts if path.is_relative_to(s)), None)
    if start is None:
        return False
    if not any(fnmatch.fnmatch(path.name, pattern) for pattern in config.getini("python_files")):
        return False
    parts = path.relative_to(start).parts
    between = [start.joinpath(*parts[:depth]) for depth in range(1, len(parts) + 1)]
    return not any(config.hook.pytest_ignore_collect(collection_path=step, config=config) for step in between)


def test_every_installed_app_of_the_project_has_tests_that_a_plain_pytest_collects(pytestconfig):
    apps = local_apps()
    uncollected = {
        app
        for app in apps
        if not any(_collected_by_default(path, pytestconfig) for path in (ROOT / app).rglob("test_*.py"))
    }

    assert {"accounts", "personal", "invites", "mail"} <= set(apps)
    assert uncollected == set()


def test_every_test_file_in_the_repository_is_collected_by_a_plain_pytest(pytestconfig):
    files = _test_files()
    uncollected = {str(path.relative_to(ROOT)) for path in files if not _collected_by_default(path, pytestconfig)}

    assert len(files) > 50
    assert uncollected == set()
