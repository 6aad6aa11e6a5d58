"""Log records as wisdom's console handler sees them: through its filters, then in both formats."""

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings

from wisdom.logging import JsonFormatter, RedactSecretsFilter, RequestContextFilter


@dataclass
class Captured:
    records: list[logging.LogRecord] = field(default_factory=list)

    def text_lines(self) -> list[str]:
        text = logging.Formatter(settings.LOGGING["formatters"]["text"]["format"])
        return [text.format(record) for record in self.records]

    def json_lines(self) -> list[dict]:
        return [json.loads(JsonFormatter().format(record)) for record in self.records]

    def everything(self) -> str:
        """Every field of every record after the filters, and every line in both formats."""
        fields = [repr(vars(record)) for record in self.records]
        return "\n".join([*fields, *self.text_lines(), *(json.dumps(line) for line in self.json_lines())])

    def from_logger(self, name: str) -> list[logging.LogRecord]:
        return [record for record in self.records if record.name == name]


class _Keep(logging.Handler):
    def __init__(self, captured: Captured):
        super().__init__(level=logging.DEBUG)
        self.captured = captured
        self.addFilter(RequestContextFilter())
        self.addFilter(RedactSecretsFilter())  # the console handler's filters (wisdom/settings.py LOGGING)

    def emit(self, record: logging.LogRecord) -> None:
        self.captured.records.append(record)


@contextlib.contextmanager
def captured_logs() -> Iterator[Captured]:
    captured = Captured()
    handler = _Keep(captured)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
