"""The coupon's countdown and copy button on WooCommerce's order-received page, in headless
Chromium: the companion plugin (php-cli) renders the page from the running service's blocks,
strips their inline script and enqueues its own static script file; the page is served with a
Content-Security-Policy that forbids inline scripts, so only the enqueued file can make it work.

Skipped without php or chromium, except under CI=true (see the two tests it borrows from).
"""

from __future__ import annotations

import re
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cdp_pipe import Browser
from test_wordpress_plugin import PLUGIN, SHOP_FILE, options, run_plugin, running_service

HERE = Path(__file__).resolve().parent
# the content tests' Chromium runner (it skips without chromium, fails under CI=true)
sys.path.insert(0, str(HERE / "content"))
from test_content_browser import _chromium  # noqa: E402

pytestmark = pytest.mark.slow  # headless Chromium

PLUGIN_DIR = PLUGIN.parent
TEMPLATE = HERE.parent / "templates" / "blocks" / "coupon.html.j2"
SCRIPT = PLUGIN_DIR / "assets" / "aftersale-kit-blocks.js"
#: ``localhost`` is a secure context, as a shop on https is: the Clipboard API is available.
DOMAIN = "localhost"
CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'"


@contextmanager
def shop_site(pages: dict[str, bytes]) -> Iterator[int]:
    """A loopback web server for the shop: ``pages`` by path, the plugin's files under
    ``/wp-content/plugins/aftersale-kit/``; every answer carries the CSP."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            prefix = "/wp-content/plugins/aftersale-kit/"
            body, kind = pages.get(path), "text/html; charset=utf-8"
            if body is None and path.startswith(prefix):
                file = (PLUGIN_DIR / path[len(prefix) :]).resolve()
                if PLUGIN_DIR in file.parents and file.is_file():
                    body, kind = file.read_bytes(), "text/javascript"
            if path.endswith(".js") and body is not None:
                kind = "text/javascript"
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_countdown_ticks_and_copy_button_copies_on_the_plugins_page(tmp_path: Path) -> None:
    from aftersale_kit_woocommerce.sandbox import WooCommerceSandbox

    binary = _chromium()
    block_secret = "whsec-" + secrets.token_hex(8)
    # a coupon valid for 5 days: short enough for a countdown
    shop_file = SHOP_FILE.replace("valid_days: 30", "valid_days: 5")
    pages: dict[str, bytes] = {}
    with WooCommerceSandbox(webhook_secret=block_secret) as sandbox, shop_site(pages) as port:
        # given a paid order and the service in front of the store
        created = sandbox.create_order("wc_v3_order_727", status="processing")
        order = {"id": str(created["id"]), "order_key": created["order_key"], "meta": {}}
        with running_service(
            tmp_path, sandbox=sandbox, block_secret=block_secret, domain=DOMAIN, shop_file=shop_file
        ) as url:
            # when the plugin renders the order-received page
            page, report, _ = run_plugin(
                tmp_path,
                {
                    "home": f"http://{DOMAIN}:{port}/",
                    "options": options(url, block_secret),
                    "order": order,
                    "run": "page",
                },
            )
        # then it printed no inline code and enqueued its static script for the footer
        content = page.split("<h1>Order received</h1>", 1)[1].split("<script src=", 1)[0]
        assert 'data-ak-block="coupon"' in content and "<script" not in content.lower()
        assert report["scripts"]["aftersale-kit-blocks"]["in_footer"] is True
        assert (
            f'<script src="http://{DOMAIN}:{port}/wp-content/plugins/aftersale-kit/assets/'
            'aftersale-kit-blocks.js?ver=0.1.0" id="aftersale-kit-blocks-js"></script>' in page
        )
        code = re.search(r'data-ak-copy="([^"]+)"', content)
        assert code is not None and code.group(1).startswith("DANKE")
        assert "Noch 5 Tage gültig" in content  # the static text, before any script
        # when Chromium opens the page
        pages["/order-received/"] = page.encode()
        origin = f"http://{DOMAIN}:{port}"
        with Browser(binary) as browser:
            browser.send(
                "Browser.grantPermissions",
                origin=origin,
                permissions=["clipboardReadWrite", "clipboardSanitizedWrite"],
            )
            browser.call("Page.enable")
            browser.call("Emulation.setFocusEmulationEnabled", enabled=True)
            browser.call("Page.navigate", url=f"{origin}/order-received/")
            browser.wait_event("Page.loadEventFired")
            timer = "document.querySelector('[data-ak-expires]').textContent"
            first = browser.evaluate(timer)
            time.sleep(1.2)
            second = browser.evaluate(timer)
            hidden = browser.evaluate("document.querySelector('[data-ak-copy]').hidden")
            # and the customer clicks the copy button (a real mouse click)
            x, y = browser.evaluate(
                "(() => { const r = document.querySelector('[data-ak-copy]')"
                ".getBoundingClientRect();"
                " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
            )
            for kind in ("mousePressed", "mouseReleased"):
                browser.call(
                    "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
                )
            label = _poll(browser, "document.querySelector('[data-ak-copy]').textContent")
            clipboard = browser.evaluate("navigator.clipboard.readText()")
    # then the countdown ticks: from the static text to a running clock, second by second
    assert re.fullmatch(r"Noch (5 Tage 00:00:00|4 Tage 23:59:5\d) gültig", first), first
    assert re.fullmatch(r"Noch 4 Tage 23:59:5\d gültig", second), second
    assert second != first
    # and the button is shown, says it copied, and the code is on the clipboard
    assert hidden is False
    assert label == "Kopiert!"
    assert clipboard == code.group(1)


def _poll(browser: Browser, expression: str, *, changes_from: str = "Code kopieren") -> Any:
    deadline = time.monotonic() + 5
    value = browser.evaluate(expression)
    while value == changes_from and time.monotonic() < deadline:
        time.sleep(0.05)
        value = browser.evaluate(expression)
    return value


def test_the_static_script_is_the_coupon_templates_script() -> None:
    # the behaviour exists twice (inline in the template for pages that allow it, as a file
    # for WordPress); the two must not drift apart
    template = TEMPLATE.read_text(encoding="utf-8")
    inline = re.search(r"\(function \(root\) \{\n(.*?)\n  \}\)\(document", template, re.S)
    static = re.search(
        r"var coupon = function \(root\) \{\n(.*?)\n  \};", SCRIPT.read_text("utf-8"), re.S
    )
    assert inline is not None and static is not None

    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    assert lines(inline.group(1)) == lines(static.group(1))
    assert len(lines(static.group(1))) > 40
