"""Logging set-up: one line per event, ids and references only (never what residents wrote
or their names). ``QUARTIERBOT_LOG_FORMAT=json`` gives one JSON object per line for log
collectors: time, level, logger, message, and whatever ``extra={...}`` a call passed."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class OneLineFormatter(logging.Formatter):
    """The text format, one line per event: line breaks (in a traceback, or in an error
    text that quotes someone else's input) are escaped, so no event spans several journal
    entries and nothing can forge a log line of its own."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


def configure_logging(log_format: str = "text", stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


class Throttled:
    """A log line for an error that may repeat in a loop: at most once per ``interval``
    seconds, with how often it happened since the last line."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def warning(
        self, key: str, message: str, *args: object, exc_info: BaseException | None = None
    ) -> None:
        self.log(logging.WARNING, key, message, *args, exc_info=exc_info)

    def error(
        self, key: str, message: str, *args: object, exc_info: BaseException | None = None
    ) -> None:
        self.log(logging.ERROR, key, message, *args, exc_info=exc_info)

    def log(
        self,
        level: int,
        key: str,
        message: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> None:
        now = time.monotonic()
        self._count[key] = self._count.get(key, 0) + 1
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return
        count = self._count.pop(key)
        self._last[key] = now
        suffix = f" ({count} times in the last {self.interval:.0f} s)" if count > 1 else ""
        self.logger.log(level, message + suffix, *args, exc_info=exc_info)
