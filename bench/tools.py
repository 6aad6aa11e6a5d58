"""Installs what the benchmark needs from Debian and is missing (wrk); PyPI tools come from requirements-dev.txt."""

import shutil
import subprocess
import sys
from pathlib import Path


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        print("installing wrk from Debian's packages", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def py_spy() -> str:
    return str(Path(sys.executable).parent / "py-spy")
