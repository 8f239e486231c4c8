"""The shared sandbox base: a real server on loopback, TLS, faults and webhook delivery."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
import requests

from aftersale_kit.testing.faults import FaultPlan
from aftersale_kit.testing.httpserver import Request, Response, SandboxHTTPServer, json_response
from aftersale_kit.testing.serve import StopSignals
from aftersale_kit.testing.tls import make_test_certificate
from aftersale_kit.testing.webhooks import Delivery, WebhookSender


def _echo(request: Request) -> Response:
    return json_response(
        200, {"method": request.method, "path": request.path, "len": len(request.body)}
    )


def test_serves_over_http_and_https(tmp_path: Path) -> None:
    # given a server over plain HTTP and one over HTTPS with a test CA
    cert = make_test_certificate(tmp_path)
    with (
        SandboxHTTPServer(_echo) as plain,
        SandboxHTTPServer(_echo, tls=cert.server_context) as tls,
    ):
        # when a real client calls both
        r1 = requests.post(plain.url + "/a?x=1", data=b"abc", timeout=5)
        r2 = requests.get(tls.url + "/b", verify=str(cert.ca_file), timeout=5)
        tls_url = tls.url
    # then both answer
    assert r1.json() == {"method": "POST", "path": "/a", "len": 3}
    assert tls_url.startswith("https://")
    assert r2.json()["path"] == "/b"


def test_faults_hit_api_paths_but_never_the_control_api() -> None:
    # given every API call fails with 429
    faults = FaultPlan(rate_429=1.0, retry_after=2.0)
    with SandboxHTTPServer(_echo, faults=faults) as server:
        api = requests.get(server.url + "/admin/api/x", timeout=5)
        control = requests.get(server.url + "/_sandbox/state", timeout=5)
    assert api.status_code == 429
    assert api.headers["Retry-After"] == "2.0"
    assert control.status_code == 200
    assert faults.counts["429"] == 1


def test_sender_retries_until_the_receiver_recovers() -> None:
    # given a receiver that fails twice, then accepts
    seen: list[bytes] = []
    lock = threading.Lock()

    def receiver(request: Request) -> Response:
        with lock:
            seen.append(request.body)
            return Response(500 if len(seen) <= 2 else 200)

    results: list[bool] = []
    with SandboxHTTPServer(receiver) as server:
        sender = WebhookSender(
            retry_delays=[0.01, 0.01, 0.01], on_result=lambda d, ok: results.append(ok)
        )
        sender.start()
        # when one delivery is sent
        sender.send(Delivery("d1", "s1", server.url + "/hook", "orders/paid", {"X-T": "1"}, b"{}"))
        assert sender.wait_idle(5)
        sender.stop()
    # then it took three attempts with the same bytes, and ended delivered
    (delivery,) = sender.deliveries()
    assert [a.status for a in delivery.attempts] == [500, 500, 200]
    assert delivery.state == "delivered"
    assert seen == [b"{}"] * 3
    assert results == [False, False, True]


def test_sender_without_retries_gives_up_and_duplicates_on_request() -> None:
    with SandboxHTTPServer(lambda r: Response(503)) as server:
        sender = WebhookSender(duplicate=1.0).start()
        sender.send(Delivery("d1", "s1", server.url + "/hook", "order.updated", {}, b"x"))
        assert sender.wait_idle(5)
        sender.stop()
    states = sorted((d.id, d.state, len(d.attempts)) for d in sender.deliveries())
    assert states == [("d1", "failed", 1), ("d1-dup", "failed", 1)]


def test_scripted_faults_come_first_in_order_then_the_shares_apply() -> None:
    # given a plan without shares, and a script: a timeout, then two 429s
    faults = FaultPlan(hang_seconds=0.1, retry_after=0.5)
    faults.fail_next("timeout")
    faults.fail_next("429", 2, retry_after=1.5)
    # when five API requests are drawn for
    draws = [faults.draw() for _ in range(5)]
    # then the script plays out in order and the rest pass
    assert draws[0].hang == 0.1 and draws[0].response is None
    assert [d.response.status if d.response else None for d in draws[1:]] == [429, 429, None, None]
    assert draws[1].response is not None
    assert ("Retry-After", "1.5") in draws[1].response.headers
    assert faults.requests == 5
    assert faults.counts == {"5xx": 0, "429": 2, "timeout": 1}


def test_a_fault_for_every_request_until_the_script_is_cleared() -> None:
    faults = FaultPlan()
    faults.fail_next("5xx", -1)
    with SandboxHTTPServer(_echo, faults=faults) as server:
        failed = [requests.get(server.url + "/api", timeout=5).status_code for _ in range(3)]
        control = requests.get(server.url + "/_sandbox/state", timeout=5).status_code
        faults.clear_script()
        passed = requests.get(server.url + "/api", timeout=5).status_code
    assert failed == [503, 503, 503]
    assert control == 200
    assert passed == 200
    assert faults.requests == 4  # the control call is never drawn for
    assert faults.as_dict()["scripted"] == {"next": [], "always": None}


def test_unknown_fault_kinds_and_record_fields_are_refused() -> None:
    faults = FaultPlan()
    with pytest.raises(ValueError, match="unknown fault 'gateway'; expected one of 5xx, 429"):
        faults.fail_next("gateway")
    with pytest.raises(ValueError, match="unknown fault setting 'counts'"):
        faults.update(counts={})
    with pytest.raises(ValueError, match="unknown fault setting 'fail_next'"):
        faults.update(fail_next=1)


def test_stop_signals_end_the_wait_and_then_restore_the_handlers() -> None:
    # given the previous SIGTERM handler
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals(poll=0.01) as stop:
        requested_before = stop.requested
        # when SIGTERM arrives from another thread while the main thread waits
        timer = threading.Timer(0.05, os.kill, args=(os.getpid(), signal.SIGTERM))
        timer.start()
        stop.wait()
        timer.join()
        # then the wait ends instead of the process
        assert (requested_before, stop.requested) == (False, True)
    # and the previous handler is back
    assert signal.getsignal(signal.SIGTERM) == before
