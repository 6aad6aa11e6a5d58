"""Installs the load generators from Debian's packages when missing; PyPI tools come from requirements-dev.txt."""

import shutil
import subprocess
import sys
from pathlib import Path


def ensure_tools() -> None:
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        print(f"installing {', '.join(missing)} from Debian's packages", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True)


def py_spy() -> str:
    return str(Path(sys.executable).parent / "py-spy")
