"""The log: one format (text lines or one JSON object per line) on one stream, stderr, for leavebot,
Bolt, uvicorn and the libraries alike; never a secret, a token or a request body."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# What is known of the work being done (Slack's trigger or event id, the Slack user, the leave request),
# set where it becomes known and added to every line logged meanwhile.
context: ContextVar[dict[str, str]] = ContextVar("log_context", default={})  # noqa: B039 (never mutated)
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields a line may carry of its own (logged with ``extra=``): a provider's HTTP call (providers/base.py).
FIELDS = ("provider", "call", "status", "duration_ms")
QUIET = {
    "alembic": logging.WARNING,  # its plugin set-up and context on every start: noise
    # aiosqlite logs every statement with its parameters at DEBUG: stored Slack payloads (request bodies).
    "aiosqlite": logging.WARNING,
    # httpx logs every request's full URL at INFO, and some HR APIs take keys in the query string
    # (TimeTap's session signature): those lines must never reach an operator's log.
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # slack_sdk says at INFO that it retries a connection: the one line of a failure says it better.
    "slack_sdk": logging.WARNING,
}


def remember(**values: str | int | None) -> None:
    """Add ``values`` (those not None) to the context of the lines logged from here on in this task."""
    known = {k: str(v) for k, v in values.items() if v is not None}
    context.set({**context.get(), **known})


@contextmanager
def about(**values: str | int | None) -> Iterator[None]:
    """Add ``values`` (those not None) to the context of the lines logged inside the block only."""
    token = context.set({**context.get(), **{k: str(v) for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        context.reset(token)


def configure(level: str = "INFO", fmt: str = "text", *, tracebacks: bool = True) -> None:
    """Send every logger's records to stderr in ``fmt`` ('text' or 'json') from ``level`` up; without
    ``tracebacks`` (the CLI's default: those are for --debug or LOG_LEVEL=DEBUG) a line is its message."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(tracebacks=tracebacks) if fmt == "json" else TextFormatter(tracebacks))
    handler.addFilter(BoltFilter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(level)))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn = logging.getLogger(name)  # through the root handler: one format, one stream
        uvicorn.handlers.clear()
        uvicorn.propagate = True


class TextFormatter(logging.Formatter):
    """``TEXT`` lines, with their tracebacks or without."""

    def __init__(self, tracebacks: bool = True) -> None:
        super().__init__(TEXT)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        """The record as a line (and its traceback, when kept)."""
        if self.tracebacks:
            return super().format(record)
        bare = {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        return super().format(logging.makeLogRecord(bare))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, a provider call's fields, and the
    traceback if any."""

    def __init__(self, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context.get(),
            **{field: getattr(record, field) for field in FIELDS if hasattr(record, field)},
        }
        if record.exc_info and self.tracebacks:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class BoltFilter(logging.Filter):
    """Bolt's lines an operator must not see: a warning about a token we never pass (Bolt reads
    SLACK_BOT_TOKEN from the environment itself), and refused requests logged with their whole body."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the start-up warning; a refused request's line is cut to its first words."""
        if not record.name.startswith("slack_bolt"):
            return True
        message = str(record.msg)
        if "`token` will be unused" in message:
            return False
        if message.startswith("Invalid request signature detected"):
            record.msg, record.args = "refused a request with an invalid Slack signature", None
        return True
