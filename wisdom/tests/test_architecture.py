"""The rooms stay apart: the project package imports no app, and the test double stays out of the product."""

import ast

from django.conf import settings
from django.urls import URLResolver, get_resolver

from tests.helpers.apps import local_apps
from tests.helpers.processes import ROOT
from wisdom.throttles import FailOpenRateThrottle

APPS = local_apps()  # from INSTALLED_APPS: a new app is under these rules without an edit here


def test_the_rules_cover_every_app_of_the_project():
    assert {"accounts", "personal", "invites", "mail"} <= set(APPS)
    assert "wisdom" not in APPS and not any(app.startswith("agents_double") for app in APPS)


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_project_package_imports_nothing_from_an_app():
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "wisdom").rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
        for module in _imported_modules(path)
        if module.split(".")[0] in APPS
    }

    assert offenders == set()


def test_no_product_module_imports_the_agents_double_or_the_test_helpers():
    offenders = {
        f"{path.relative_to(ROOT)}: {module}"
        for app in ("wisdom", *APPS)
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
        for module in _imported_modules(path)
        if module.split(".")[0] in ("agents_double", "tests", "conftest")
    }

    assert offenders == set()


def test_the_agents_double_is_no_django_app_and_stays_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert not any(app.startswith("agents_double") for app in settings.INSTALLED_APPS)
    assert {"agents_double", "tests", "bench"} <= ignored


def _routed_views(patterns) -> set[type]:
    views = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            views |= _routed_views(pattern.url_patterns)
        elif getattr(pattern.callback, "cls", None) is not None:  # a DRF view's as_view() keeps its class
            views.add(pattern.callback.cls)
    return views


def test_every_throttle_fails_open_through_the_one_base():
    throttles = {
        throttle
        for view in _routed_views(get_resolver().url_patterns)
        for throttle in getattr(view, "throttle_classes", ())
    }

    assert throttles  # login and the invite routes have some
    assert {t.__qualname__ for t in throttles if not issubclass(t, FailOpenRateThrottle)} == set()
