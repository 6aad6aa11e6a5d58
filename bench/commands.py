"""The exact commands a run used, as the report shows them: secrets replaced, paths relative to the checkout."""

import shlex
from dataclasses import dataclass, field

from tests.helpers.processes import ROOT


@dataclass
class CommandLog:
    """Handed to every scenario; each command is kept once, under the label of its first use."""

    _placeholders: dict[str, str] = field(default_factory=dict)
    _lines: list[str] = field(default_factory=list)

    def hide(self, secret: str, placeholder: str) -> None:
        self._placeholders[secret] = placeholder

    def record(self, label: str, command: list[str]) -> None:
        shown = shlex.join(command).replace(f"{ROOT}/", "")
        for secret, placeholder in self._placeholders.items():
            shown = shown.replace(secret, placeholder)
        line = f"{label}: {shown}"
        if line not in self._lines:
            self._lines.append(line)

    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)
