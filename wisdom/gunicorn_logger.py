"""gunicorn's own log lines (start-up, worker restarts, errors), in the format wisdom logs in, redacted as wisdom's
own are (gunicorn writes a failed request's URI, query and all).

No access line: wisdom writes one per request itself, with its request id, user and upstream timing;
gunicorn building a second one would cost every request for nothing.
"""

import os

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

from wisdom.logging import RedactSecretsFilter


class GunicornLogger(Logger):
    @property
    def access_log_enabled(self) -> bool:
        return False

    def access(self, resp, req, environ, request_time) -> None:
        return None

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.addFilter(RedactSecretsFilter())
        if os.environ.get("LOG_FORMAT", "text") == "json":
            formatter = JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
            for handler in self.error_log.handlers:
                handler.setFormatter(formatter)
