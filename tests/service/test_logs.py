"""Structured service logs: a field may carry any name without failing the work it reports."""

from __future__ import annotations

import io
import json
import logging

import pytest

from aftersale_kit.service.logs import JsonFormatter, RedactingFilter, log_event


def test_fields_named_like_record_attributes_are_kept_with_a_trailing_underscore(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given INFO records captured (as the service logs in production)
    caplog.set_level(logging.INFO, logger="aftersale_kit.service")
    # when a field is named like a LogRecord attribute
    log_event(logging.INFO, "coupon issued", created=True, name="x", shop="s.example")
    # then the record is written, with the value under its renamed key
    (record,) = [r for r in caplog.records if r.getMessage() == "coupon issued"]
    assert record.created_ is True  # type: ignore[attr-defined]
    assert record.name_ == "x"  # type: ignore[attr-defined]
    assert record.name == "aftersale_kit.service"
    assert record.shop == "s.example"  # type: ignore[attr-defined]


def test_json_line_carries_fields_and_redacts_secrets_and_emails() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(["s3cret-value"]))
    logger = logging.getLogger("aftersale_kit.service.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "failed for jane@example.com", extra={"error": "token s3cret-value refused", "n": 2}
        )
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    line = json.loads(stream.getvalue())
    assert line["msg"] == "failed for [email]"
    assert line["error"] == "token [secret] refused"
    assert line["n"] == 2 and line["level"] == "warning"


def test_install_filter_redacts_what_the_service_logger_passes_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given an application with its own logging that only installs the redaction
    from aftersale_kit.service import logs

    caplog.set_level(logging.INFO)
    flt = logs.install_filter(["hunter2-secret"])
    try:
        # when the service (a child logger of aftersale_kit) logs a secret and an e-mail
        log_event(logging.WARNING, "refused hunter2-secret", error="for ada@example.com")
    finally:
        for name in logging.root.manager.loggerDict:
            if name.startswith(logs.LOGGER_NAMES):
                logging.getLogger(name).removeFilter(flt)
    # then the application's handlers see neither
    (record,) = [r for r in caplog.records if r.name == "aftersale_kit.service"]
    assert record.getMessage() == "refused [secret]"
    assert record.error == "for [email]"  # type: ignore[attr-defined]
