"""Shop credentials at rest: encrypted, shared by processes, refreshed once, rotated, redacted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from aftersale_kit.storage import Store
from aftersale_kit.storage.credentials import (
    CredentialCipher,
    CredentialKeyError,
    CredentialStore,
)

SHOP = "kaffee.myshopify.com"
TOKEN = "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"
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def creds(store: Store, *keys: str) -> CredentialStore:
    return CredentialStore(store.db, CredentialCipher(list(keys)))


def test_a_token_is_stored_encrypted_and_read_back(store: Store) -> None:
    # given a token stored for a shop
    cs = creds(store, KEY_A)
    cs.put(SHOP, "access_token", {"access_token": TOKEN}, expires_at=NOW + timedelta(hours=24))
    # then the table holds no plaintext, and the store reads it back whole
    [cipher] = cs.raw_ciphertexts()
    assert TOKEN not in cipher and "shpat_" not in cipher
    got = cs.get(SHOP, "access_token")
    assert got is not None and got.value == {"access_token": TOKEN}
    assert got.expires_at == NOW + timedelta(hours=24)
    assert TOKEN not in repr(got)


def test_concurrent_refreshes_from_several_processes_fetch_once(
    open_store: Callable[[], Store], store: Store
) -> None:
    # given four stores on the same database (as four processes have), all without a token
    stores = [open_store() for _ in range(4)]
    fetched: list[int] = []
    lock = threading.Lock()

    def fetch() -> tuple[dict[str, str], datetime]:
        with lock:
            fetched.append(1)
        time.sleep(0.2)  # the platform takes its time; the others wait for the lock
        return {"access_token": f"shpat_{len(fetched)}"}, datetime.now(UTC) + timedelta(hours=1)

    seen: list[str] = []

    def run(s: Store) -> None:
        got = creds(s, KEY_A).refresh(SHOP, "access_token", fetch, margin=timedelta(minutes=5))
        seen.append(got.value["access_token"])

    # when all refresh at the same moment
    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # then one fetch happened and all got its token
    assert len(fetched) == 1
    assert seen == ["shpat_1"] * 4


def test_a_refused_or_expiring_token_is_fetched_again_a_fresh_one_is_not(store: Store) -> None:
    cs = creds(store, KEY_A)
    calls: list[str] = []

    def fetch() -> tuple[dict[str, str], datetime]:
        calls.append("x")
        return {"access_token": f"t{len(calls)}"}, NOW + timedelta(hours=24)

    clock = lambda: NOW  # noqa: E731
    margin = timedelta(minutes=5)
    assert cs.refresh(SHOP, "t", fetch, margin=margin, clock=clock).value["access_token"] == "t1"
    # fresh: kept
    assert cs.refresh(SHOP, "t", fetch, margin=margin, clock=clock).value["access_token"] == "t1"
    # refused (a 401 to t1): fetched again, once, even if two callers report it
    assert (
        cs.refresh(SHOP, "t", fetch, margin=margin, refused="t1", clock=clock).value["access_token"]
        == "t2"
    )
    assert (
        cs.refresh(SHOP, "t", fetch, margin=margin, refused="t1", clock=clock).value["access_token"]
        == "t2"
    )
    # within the margin of its expiry: fetched again
    late = lambda: NOW + timedelta(hours=23, minutes=56)  # noqa: E731
    assert cs.refresh(SHOP, "t", fetch, margin=margin, clock=late).value["access_token"] == "t3"
    assert len(calls) == 3


def test_rotating_the_key_keeps_every_credential_readable(store: Store) -> None:
    # given credentials written under key A
    creds(store, KEY_A).put(SHOP, "access_token", {"access_token": TOKEN})
    creds(store, KEY_A).put("b.example.org", "rest_keys", {"consumer_key": "ck_1"})
    # when B becomes the first key and the store is rotated
    rotated = creds(store, KEY_B, KEY_A)
    assert rotated.rotate() == 2
    # then B alone opens them all, and A alone opens none
    only_b = creds(store, KEY_B)
    got = only_b.get(SHOP, "access_token")
    assert got is not None and got.value == {"access_token": TOKEN}
    with pytest.raises(CredentialKeyError) as info:
        creds(store, KEY_A).get(SHOP, "access_token")
    assert str(info.value) == (
        f"the stored credentials of {SHOP} cannot be opened with any key in "
        "AFTERSALE_CREDENTIALS_KEY (was the key replaced instead of rotated? put the old key "
        "after the new one)"
    )


def test_the_key_comes_from_the_environment_and_a_bad_one_is_named() -> None:
    cipher = CredentialCipher.from_env({"AFTERSALE_CREDENTIALS_KEY": f"{KEY_B}, {KEY_A}"})
    assert cipher.decrypt(CredentialCipher([KEY_A]).encrypt({"a": "b"}), shop=SHOP) == {"a": "b"}
    with pytest.raises(CredentialKeyError, match=r"^AFTERSALE_CREDENTIALS_KEY is not set"):
        CredentialCipher.from_env({})
    with pytest.raises(CredentialKeyError) as info:
        CredentialCipher.from_env({"AFTERSALE_CREDENTIALS_KEY": f"{KEY_A},not-a-key"})
    assert str(info.value) == (
        "AFTERSALE_CREDENTIALS_KEY: key 2 of 2 is not a Fernet key (32 url-safe base64-encoded "
        "bytes, as Fernet.generate_key() makes)"
    )


def test_redacting_or_forgetting_a_shop_drops_its_credentials(store: Store) -> None:
    cs = creds(store, KEY_A)
    cs.put(SHOP, "access_token", {"access_token": TOKEN})
    cs.put("other.myshopify.com", "access_token", {"access_token": "shpat_other"})
    assert store.redact_shop(SHOP)["credentials"] == 1
    assert cs.get(SHOP, "access_token") is None
    assert cs.get("other.myshopify.com", "access_token") is not None
    assert cs.delete("other.myshopify.com") == 1
    assert cs.raw_ciphertexts() == []
