"""The per-shop token bucket on an injected clock, and dry-run delivery to a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftersale_kit.mail import (
    DeliveryStatus,
    DryRunTransport,
    MailComposer,
    Mailer,
    MailLinks,
    SendRateLimiter,
)

from .conftest import SHOP, Clock, mail_settings, reminder_request, survey_request


class Seconds:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate() -> None:
    seconds = Seconds()
    limiter = SendRateLimiter(clock=seconds)
    assert [limiter.acquire(SHOP, 6) for _ in range(6)] == [0.0] * 6
    assert limiter.acquire(SHOP, 6) == pytest.approx(10.0)  # 6 per minute: one every 10 s
    seconds.now += 4
    assert limiter.acquire(SHOP, 6) == pytest.approx(6.0)  # nothing was taken by asking
    seconds.now += 6
    assert limiter.acquire(SHOP, 6) == 0.0
    assert limiter.acquire(SHOP, 6) == pytest.approx(10.0)
    # a long pause refills up to the burst only
    seconds.now += 3600
    assert [limiter.acquire(SHOP, 6) for _ in range(7)].count(0.0) == 6


def test_shops_have_their_own_buckets_and_a_new_rate_replaces_the_old() -> None:
    seconds = Seconds()
    limiter = SendRateLimiter(clock=seconds)
    assert limiter.acquire("a.example", 1) == 0.0
    assert limiter.acquire("a.example", 1) == pytest.approx(60.0)
    assert limiter.acquire("b.example", 1) == 0.0
    assert limiter.acquire("a.example", 120, burst=1) == 0.0
    assert limiter.acquire("a.example", 120, burst=1) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least 1"):
        limiter.acquire("a.example", 0)


def test_a_dry_run_writes_one_eml_file_per_message_id(
    tmp_path: Path, composer: MailComposer, links: MailLinks, clock: Clock
) -> None:
    settings = mail_settings(smtp=None, dry_run="outbox", rate_per_minute=1)
    mailer = Mailer.for_settings(SHOP, settings, base_dir=tmp_path, clock=clock)
    assert isinstance(mailer.transport, DryRunTransport)
    survey = composer.compose(survey_request(links))
    delivery = mailer.deliver(survey)
    assert (delivery.status, delivery.reason) == (DeliveryStatus.SENT, "written")
    target = tmp_path / "outbox" / f"{survey.message_id.strip('<>')}.eml"
    assert target.read_bytes() == survey.as_bytes()
    assert delivery.reply == f"written: {target.name}"
    # the same message again (a resend after a crash) leaves the first file as it was
    again = composer.compose(survey_request(links))
    assert again.as_bytes() != survey.as_bytes()  # new link tokens ...
    assert mailer.deliver(again).reply == f"already written: {target.name}"
    assert target.read_bytes() == survey.as_bytes()  # ... but one file, the first
    # a folder is not rate-limited (rate_per_minute: 1 above), and no temporary file is left
    assert mailer.deliver(composer.compose(reminder_request(links))).status == "sent"
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(
        [target.name, f"{composer.compose(reminder_request(links)).message_id.strip('<>')}.eml"]
    )


def test_a_dry_run_folder_that_cannot_be_written_is_transient(
    tmp_path: Path, composer: MailComposer, links: MailLinks
) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    mailer = Mailer(DryRunTransport(blocker), shop=SHOP)
    delivery = mailer.deliver(composer.compose(survey_request(links)))
    assert delivery.status is DeliveryStatus.RETRY and delivery.reply.startswith("cannot write")
