"""`make clean` removes everything the tools leave in the checkout, and nothing it should keep."""

import shutil
import subprocess

import pytest

from tests.helpers.processes import ROOT

LEFT_BY_TOOLS = (".venv", ".pytest_cache", ".ruff_cache", ".hypothesis", "staticfiles", "contract/node_modules")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_clean_removes_what_the_tools_leave_behind_hypothesis_included():
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "clean"],  # under `make test` a nested make names its directory
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    removed = dry_run.split()

    assert removed[:2] == ["rm", "-rf"]
    assert [name for name in LEFT_BY_TOOLS if name not in removed] == []
    assert not {"openapi.yaml", ".env", "README.md"} & set(removed)
