"""Authentication as WooCommerce performs it, driven by the official client."""

from __future__ import annotations

import base64
import hashlib
import hmac
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import requests
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox
from aftersale_kit_woocommerce.sandbox.auth import string_to_sign
from aftersale_kit_woocommerce.sandbox.phpquery import parse_str
from woocommerce import API
from woocommerce.oauth import OAuth

from .conftest import fixture_json

INVALID_SIGNATURE = {
    "code": "woocommerce_rest_authentication_error",
    "message": "Invalid signature - provided signature does not match.",
    "data": {"status": 401},
}


def _auth_error(message: str) -> dict[str, object]:
    return {
        "code": "woocommerce_rest_authentication_error",
        "message": message,
        "data": {"status": 401},
    }


def _signed_url(
    shop: WooCommerceSandbox,
    path: str,
    params: dict[str, str],
    *,
    method: str = "GET",
    algorithm: str = "sha1",
    secret: str | None = None,
) -> str:
    """A one-legged OAuth URL signed independently of the sandbox (the client's encoding)."""
    url = f"{shop.url}/wp-json/wc/v3/{path}"
    signed = {
        **params,
        "oauth_consumer_key": shop.consumer_key,
        "oauth_timestamp": str(int(time.time())),
        "oauth_nonce": hashlib.sha1(str(time.monotonic_ns()).encode()).hexdigest(),
        "oauth_signature_method": f"HMAC-{algorithm.upper()}",
    }
    normalized = OAuth.normalize_parameters(OAuth.sorted_params(signed))
    base = "&".join(
        [method, quote(url, ""), "%26".join(f"{k}%3D{v}" for k, v in normalized.items())]
    )
    key = ((secret or shop.consumer_secret) + "&").encode()
    digest = hmac.new(key, base.encode(), getattr(hashlib, algorithm)).digest()
    signed["oauth_signature"] = base64.b64encode(digest).decode()
    return url + "?" + urlencode(signed)


def test_the_client_s_oauth_requests_verify_and_its_duplicated_params_are_harmless(
    shop: WooCommerceSandbox,
) -> None:
    shop.load_order("wc_v3_order_727")
    response = shop.client().get("orders", params={"per_page": 1, "status": "processing"})
    assert response.status_code == 200
    assert [o["id"] for o in response.json()] == [727]
    # the client's quirk: parameters once in the signed URL and again from params=
    sent = parse_qsl(response.request.url.split("?", 1)[1])
    assert [k for k, _ in sent].count("per_page") == 2
    assert shop.requests()[-1]["auth"] == "oauth1"


def test_a_wrong_consumer_secret_gets_woocommerce_s_401(shop: WooCommerceSandbox) -> None:
    tampered = API(shop.url, shop.consumer_key, shop.consumer_secret + "x", timeout=10)
    response = tampered.get("orders")
    assert response.status_code == 401
    assert response.json() == INVALID_SIGNATURE


def test_a_replayed_nonce_is_refused(shop: WooCommerceSandbox) -> None:
    first = shop.client().get("coupons")
    assert first.status_code == 200
    replay = requests.get(first.request.url, timeout=5)
    assert replay.status_code == 401
    assert replay.json() == _auth_error("Invalid nonce - nonce has already been used.")


@pytest.mark.parametrize(("skew_minutes", "status"), [(14, 200), (-14, 200), (16, 401), (-16, 401)])
def test_timestamps_outside_fifteen_minutes_are_refused(
    shop: WooCommerceSandbox, skew_minutes: int, status: int
) -> None:
    shop.skew_clock(skew_minutes * 60)
    response = shop.client().get("coupons")
    assert response.status_code == status
    if status == 401:
        assert response.json() == _auth_error("Invalid timestamp.")


def test_hmac_sha1_is_accepted_and_other_methods_are_not(shop: WooCommerceSandbox) -> None:
    assert requests.get(_signed_url(shop, "coupons", {"per_page": "5"}), timeout=5).ok
    url = _signed_url(shop, "coupons", {}).replace("HMAC-SHA1", "PLAINTEXT")
    response = requests.get(url, timeout=5)
    assert response.status_code == 401
    assert response.json() == _auth_error("Invalid signature - signature method is invalid.")


def test_a_slash_in_a_signed_value_fails_as_on_the_platform(shop: WooCommerceSandbox) -> None:
    # The client leaves "/" unencoded (urllib's quote), PHP's rawurlencode encodes it.
    response = shop.client().get("orders", params={"search": "a/b"})
    assert response.status_code == 401
    assert response.json() == INVALID_SIGNATURE


def test_missing_and_unknown_oauth_keys(shop: WooCommerceSandbox) -> None:
    base = f"{shop.url}/wp-json/wc/v3/orders"
    partial = requests.get(base, params={"oauth_consumer_key": shop.consumer_key}, timeout=5)
    assert partial.status_code == 401
    assert partial.json() == {
        "code": "woocommerce_rest_authentication_missing_parameter",
        "message": "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, "
        "oauth_signature_method",
        "data": {"status": 401},
    }
    stranger = API(shop.url, "ck_unknown", "cs_unknown", timeout=10).get("orders")
    assert stranger.json() == _auth_error("Consumer key is invalid.")


def test_without_credentials_the_controller_refuses_with_cannot_view(
    shop: WooCommerceSandbox,
) -> None:
    # over plain HTTP, query-string keys are not looked at (Basic auth is HTTPS-only)
    keys = {"consumer_key": shop.consumer_key, "consumer_secret": shop.consumer_secret}
    response = requests.get(f"{shop.url}/wp-json/wc/v3/orders", params=keys, timeout=5)
    assert response.status_code == 401
    assert response.json() == fixture_json("wc_v3_errors.json")["cannot_view_http401"]


def test_read_only_keys_can_read_but_not_write(shop: WooCommerceSandbox) -> None:
    key = shop.read_only_key
    reader = API(shop.url, key.consumer_key, key.consumer_secret, timeout=10)
    assert reader.get("coupons").status_code == 200
    refused = reader.post("coupons", {"code": "nope"})
    assert refused.status_code == 401
    assert refused.json() == _auth_error("The API key provided does not have write permissions.")
    assert shop.coupons() == []


def test_https_basic_query_string_and_oauth_all_work(tls_shop: WooCommerceSandbox) -> None:
    ca = str(tls_shop.ca_file)
    basic = tls_shop.client()
    assert basic.get("coupons").status_code == 200
    assert tls_shop.requests()[-1]["auth"] == "basic"
    query = tls_shop.client(query_string_auth=True)
    assert query.get("coupons", params={}).status_code == 200
    assert tls_shop.requests()[-1]["auth"] == "query_string"
    wrong = API(tls_shop.url, tls_shop.consumer_key, "cs_wrong", verify_ssl=ca, timeout=10)
    refused = wrong.get("coupons")
    assert refused.status_code == 401
    assert refused.json() == _auth_error("Consumer secret is invalid.")
    unknown = API(tls_shop.url, "ck_nobody", "cs_nobody", verify_ssl=ca, timeout=10)
    assert unknown.get("coupons").json()["code"] == "woocommerce_rest_cannot_view"
    # OAuth is checked over HTTPS too when Basic did not authenticate
    url = _signed_url(tls_shop, "coupons", {}, algorithm="sha256")
    assert requests.get(url, verify=ca, timeout=5).status_code == 200


def test_the_ca_bundle_can_come_from_the_environment(
    tls_shop: WooCommerceSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_shop.ca_file))
    api = API(tls_shop.url, tls_shop.consumer_key, tls_shop.consumer_secret, timeout=10)
    assert api.get("coupons").status_code == 200


# -- the base string against PHP itself -------------------------------------------------------

_PHP_BASE_STRING = r"""
parse_str($argv[2], $params);
unset($params['oauth_signature']);
uksort($params, 'strcmp');
$enc = function ($v) use (&$enc) { return is_array($v) ? array_map($enc, $v) : rawurlencode($v); };
$norm = array_combine($enc(array_keys($params)), $enc(array_values($params)));
$join = function ($ps, $out = array(), $prefix = '') use (&$join) {
    foreach ($ps as $k => $v) {
        if ($prefix) { $k = $prefix . '%5B' . $k . '%5D'; }
        if (is_array($v)) { $out = $join($v, $out, $k); }
        else { $out[] = rawurlencode($k . '=' . $v); }
    }
    return $out;
};
echo $argv[1] . '&' . rawurlencode($argv[3]) . '&' . implode('%26', $join($norm));
"""


@pytest.mark.skipif(shutil.which("php") is None, reason="php is not installed")
@pytest.mark.parametrize(
    "query",
    [
        "per_page=5&oauth_nonce=n&oauth_signature=s",
        "status=processing,completed&search=Jos%C3%A9+M%C3%BCller&page=2",
        "filter[period]=week&filter[date_min]=2024-01-01&a.b=1&x[]=1&x[]=2",
        "z=last&a=first&z=again&tilde=~&star=*&plus=%2B",
    ],
)
def test_the_base_string_is_the_one_php_computes(query: str, tmp_path: Path) -> None:
    script = tmp_path / "base.php"
    script.write_text("<?php\n" + _PHP_BASE_STRING, encoding="utf-8")
    uri = "http://127.0.0.1:8080/wp-json/wc/v3/orders"
    php = subprocess.run(
        ["php", str(script), "GET", query, uri], capture_output=True, text=True, check=True
    ).stdout
    params = parse_str(query)
    params.pop("oauth_signature", None)
    assert string_to_sign("GET", uri, params) == php


@pytest.mark.parametrize(
    ("resource", "status", "code"),
    [
        ("coupons", 404, "woocommerce_rest_shop_coupon_invalid_id"),
        ("orders", 404, "woocommerce_rest_shop_order_invalid_id"),
        ("webhooks", 401, "woocommerce_rest_cannot_delete"),
    ],
)
def test_deleting_a_missing_record_without_a_key(
    shop: WooCommerceSandbox, resource: str, status: int, code: str
) -> None:
    # when a record that does not exist is deleted without credentials
    response = requests.delete(
        f"{shop.url}/wp-json/wc/v3/{resource}/999999", params={"force": "true"}, timeout=5
    )
    # then posts answer with the missing ID (their key check runs on a found object only),
    # webhooks with the missing permission (their key check comes first)
    assert (response.status_code, response.json()["code"]) == (status, code)
