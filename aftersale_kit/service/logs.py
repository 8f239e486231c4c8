"""Structured JSON logs that carry no secret and no more personal data than needed.

Every record of the service (and of the adapters) passes :class:`RedactingFilter`: the values of
the configured secrets become ``[secret]`` and e-mail addresses ``[email]``. Order ids, shop
domains, topics and job ids are kept: they are what an operator needs. The service itself logs
no names, addresses or e-mails; the filter is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = ["LOGGER_NAMES", "JsonFormatter", "RedactingFilter", "configure_logging", "log_event"]

#: Loggers the service configures: its own; the adapters' are added from the platforms' specs
#: (:func:`logger_names`).
LOGGER_NAMES: tuple[str, ...] = ("aftersale_kit",)


def logger_names() -> tuple[str, ...]:
    """The service's logger and each known platform's adapter package."""
    from ..core import registry

    adapters = {spec.adapter.partition(":")[0].split(".")[0] for spec in registry.specs().values()}
    return (*LOGGER_NAMES, *sorted(adapters - set(LOGGER_NAMES)))


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_STANDARD = set(vars(logging.makeLogRecord({})))
_STANDARD |= {"message", "asctime", "taskName"}

log = logging.getLogger("aftersale_kit.service")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[secret]")
    return _EMAIL.sub("[email]", text)


class RedactingFilter(logging.Filter):
    """Rewrites the message (and string extras) of each record; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        record.msg = redact(message, self.secrets)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg`` and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                data[key] = value
        if record.exc_text:
            data["exc"] = record.exc_text
        return json.dumps(data, default=str, ensure_ascii=False)


def configure_logging(
    *, secrets: Iterable[str] = (), level: int = logging.INFO, stream: TextIO | None = None
) -> RedactingFilter:
    """JSON lines on ``stream`` (stderr) for the service and adapter loggers, all redacted."""
    flt = install_filter(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(flt)
    for name in logger_names():
        logger = logging.getLogger(name)
        for old_handler in list(logger.handlers):
            if getattr(old_handler, "_aftersale_json", False):
                logger.removeHandler(old_handler)
        handler._aftersale_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(level)
    return flt


def _our_loggers() -> list[logging.Logger]:
    """:func:`logger_names` and every logger below them that exists now: a logger's filters
    see only the records logged on that logger, not those its children pass up."""
    names = set(logger_names())
    names.update(
        n for n in logging.root.manager.loggerDict if n.startswith(tuple(f"{p}." for p in names))
    )
    return [logging.getLogger(n) for n in sorted(names)]


def install_filter(secrets: Iterable[str]) -> RedactingFilter:
    """Only the redaction (no handler): for embedding applications with their own logging."""
    flt = RedactingFilter(secrets)
    for logger in _our_loggers():
        for old in list(logger.filters):
            if isinstance(old, RedactingFilter):
                logger.removeFilter(old)
        logger.addFilter(flt)
    return flt


def log_event(level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with structured ``fields`` (ids, topics, reasons; never personal data).

    A field named like a :class:`logging.LogRecord` attribute (``created``, ``name``, ...) gets a
    trailing ``_``: ``logging`` refuses to overwrite those, and a log line must never fail the
    work it reports on."""
    extra = {f"{k}_" if k in _STANDARD else k: v for k, v in fields.items()}
    log.log(level, message, extra=extra)
