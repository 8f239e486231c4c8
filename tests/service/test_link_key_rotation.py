"""Link key rotation at the running service, on SQLite and PostgreSQL: a link signed with the
old key id still opens after a new key is added in front, and is refused with the "invalid"
page (404, never a 5xx) once the old key is removed; a link from before key ids opens with the
legacy key throughout; a malformed ``$AFTERSALE_LINK_KEYS`` stops the service at startup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersale_kit.mail import LinkKeyError
from aftersale_kit.service.bootstrap import bootstrap

from .conftest import write_shopify_config
from .followup_support import link_env, links, planned_message, shop_of
from .harness import Service, running_service

pytestmark = pytest.mark.slow

OLD = "2026-a:" + "a" * 40
NEW = "2026-b:" + "b" * 40


def _service_link(svc: Service, message: str) -> str:
    (entry,) = list(svc.registry)
    follow_ups = svc.processor.follow_ups
    assert follow_ups is not None
    made = follow_ups.links(entry)
    assert made is not None
    return made.unsubscribe(shop=entry.domain, subject=message).rsplit("/", 1)[1]


def _open(svc: Service, token: str) -> httpx.Response:
    return httpx.get(f"{svc.url}/v1/unsubscribe/{token}", timeout=10)


def test_rotation_keeps_old_links_until_the_old_key_is_removed(
    shopify_sandbox: Any, tmp_path: Path, db_url: str
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    base = link_env(env)
    sqlite = tmp_path / "rotation.db"

    def service(keys: str) -> Any:
        environment = {**base, "AFTERSALE_LINK_KEYS": keys}
        return running_service(config=config, db_url=db_url, sqlite_path=sqlite, env=environment)

    with service(OLD) as svc:
        message = planned_message(svc, "5001", "kim@example.com")
        old_link = _service_link(svc, message)
        # a link from before key ids (signed with AFTERSALE_LINK_KEY, no key id)
        legacy_link = links(svc).unsubscribe(shop=shop_of(svc), subject=message).rsplit("/", 1)[1]
        before = [_open(svc, old_link).status_code, _open(svc, legacy_link).status_code]
    # when a new key is added in front of the old one
    with service(f"{NEW},{OLD}") as svc:
        added = [_open(svc, old_link).status_code, _open(svc, legacy_link).status_code]
        new_link = _service_link(svc, message)
    # when the old key is removed
    with service(NEW) as svc:
        removed = _open(svc, old_link)
        after = [_open(svc, new_link).status_code, _open(svc, legacy_link).status_code]
    assert before == [200, 200]
    assert added == [200, 200]
    assert new_link != old_link
    assert removed.status_code == 404
    assert "Dieser Link ist ungültig oder unvollständig." in removed.text
    assert after == [200, 200]


def test_a_malformed_variable_stops_the_service_at_startup(
    shopify_sandbox: Any, tmp_path: Path
) -> None:
    config, env = write_shopify_config(tmp_path / "shops", shopify_sandbox)
    environment = {**link_env(env), "AFTERSALE_LINK_KEYS": f"{OLD},2026-b:too-short"}
    with pytest.raises(LinkKeyError) as info:
        bootstrap(config=config, db_url=None, sqlite_path=tmp_path / "s.db", env=environment)
    assert str(info.value) == (
        "AFTERSALE_LINK_KEYS: the secret of link key id '2026-b' has 9 bytes, needs at least 32"
    )
