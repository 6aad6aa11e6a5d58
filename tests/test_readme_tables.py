"""The tables of README.md and CONTRIBUTING.md tell the truth about the repository: no table names the same place
(its first column) twice, and every file or folder a table names in backticks exists, either from the top of the
repository or inside the folder its row is about."""

import re
from pathlib import Path

import pytest

from tests.helpers.processes import ROOT

DOCUMENTS = ("README.md", "CONTRIBUTING.md")
# A name that is a file or folder of the repository: a folder ends with "/", a file with one of these extensions.
PATH = re.compile(r"^[\w.<>*-]+(/[\w.<>*-]+)*(/|\.(py|md|yaml|yml|toml|txt|json|html|cfg|conf|template|ts|sh))$")


def tables(text: str) -> list[list[list[str]]]:
    """Each table's body rows (header and separator left out), each row its cells."""
    found, rows = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if len(rows) > 2:
            found.append(rows[2:])
        rows = []
    return found


def named_paths(cell: str) -> list[str]:
    return [name for name in re.findall(r"`([^`]+)`", cell) if PATH.match(name)]


def missing(document: str) -> list[str]:
    absent = []
    for table in tables((ROOT / document).read_text()):
        for row in table:
            places = [name for name in named_paths(row[0]) if name.endswith("/")]
            for cell in row:
                for name in named_paths(cell):
                    candidates = [ROOT / name, *(ROOT / place / name for place in places)]
                    if not any(path.exists() for path in candidates):
                        absent.append(f"{row[0]}: {name}")
    return absent


def repeated(document: str) -> list[str]:
    twice = []
    for table in tables((ROOT / document).read_text()):
        firsts = [row[0] for row in table]
        twice += sorted({first for first in firsts if firsts.count(first) > 1})
    return twice


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_table_names_a_place_twice(document):
    assert repeated(document) == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_file_or_folder_a_table_names_exists(document):
    assert missing(document) == []


def test_the_check_catches_a_place_named_twice_and_a_path_that_does_not_exist(tmp_path, monkeypatch):
    fake = tmp_path / "repo"
    (fake / "mail").mkdir(parents=True)
    (fake / "mail" / "services.py").write_text("")
    (fake / "README.md").write_text(
        "| where | what |\n|---|---|\n"
        "| `mail/` | the outbox (`services.py`) |\n"
        "| `mail/` | the worker (`worker.py`), `text/event-stream` is no path |\n"
        "| `ghost/` | nothing |\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", Path(fake))

    assert repeated("README.md") == ["`mail/`"]
    assert missing("README.md") == ["`mail/`: worker.py", "`ghost/`: ghost/"]
