"""Fault injection with WooCommerce-shaped bodies; the control API is never faulted."""

from __future__ import annotations

import pytest
import requests
from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox, running_sandbox

from aftersale_kit.testing.faults import FaultPlan


def test_5xx_bodies_look_like_wordpress_and_control_stays_up(shop: WooCommerceSandbox) -> None:
    shop.set_faults(error_5xx=1.0)
    response = shop.client().get("orders")
    assert response.status_code == 503
    assert response.json()["code"] == "internal_server_error"
    assert "critical error" in response.json()["message"]
    control = requests.get(shop.url + "/_sandbox/state", timeout=5)
    assert control.status_code == 200
    assert control.json()["faults"]["counts"]["5xx"] == 1


def test_timeouts_reach_the_client_as_timeouts() -> None:
    faults = FaultPlan(timeout=1.0, hang_seconds=0.5)
    with running_sandbox(faults=faults) as shop, pytest.raises(requests.exceptions.ReadTimeout):
        shop.client(timeout=0.2).get("orders")


def test_a_waf_blocking_the_default_user_agent_answers_html() -> None:
    with running_sandbox(blocked_user_agents=("WooCommerce-Python-REST-API",)) as blocked:
        response = blocked.client().get("orders")
        assert response.status_code == 403
        with pytest.raises(requests.exceptions.JSONDecodeError):
            response.json()
        assert blocked.client(user_agent="aftersale-kit/1.0").get("orders").status_code == 200
