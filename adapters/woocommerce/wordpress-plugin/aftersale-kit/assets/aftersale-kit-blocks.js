/*
 * aftersale-kit blocks on the order-received page: the coupon's copy button and countdown.
 *
 * A static file the plugin enqueues with wp_enqueue_script (no inline code, so it runs under a
 * Content-Security-Policy without 'unsafe-inline'); everything it needs is in the blocks' data-
 * attributes. The coupon function is the same as the inline script of the coupon block's
 * template (templates/blocks/coupon.html.j2; a test keeps the two equal).
 */
(function () {
  "use strict";
  var coupon = function (root) {
    if (!root || root.getAttribute("data-ak-ready")) { return; }
    root.setAttribute("data-ak-ready", "1");
    var button = root.querySelector("[data-ak-copy]");
    if (button) {
      button.hidden = false;
      var label = button.textContent;
      var show = function (ok) {
        button.textContent = button.getAttribute(ok ? "data-ak-copied" : "data-ak-failed");
        setTimeout(function () { button.textContent = label; }, 2000);
      };
      var fallback = function () {
        var code = button.getAttribute("data-ak-copy"), area = document.createElement("textarea"), ok = false;
        area.value = code; area.setAttribute("readonly", "");
        area.style.position = "fixed"; area.style.opacity = "0";
        document.body.appendChild(area); area.select();
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        document.body.removeChild(area);
        if (!ok) {
          var range = document.createRange(), selection = window.getSelection();
          range.selectNodeContents(root.querySelector("[data-ak-code]"));
          selection.removeAllRanges(); selection.addRange(range);
        }
        show(ok);
      };
      button.addEventListener("click", function () {
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(button.getAttribute("data-ak-copy")).then(function () { show(true); }, fallback);
        } else { fallback(); }
      });
    }
    var timer = root.querySelector("[data-ak-expires]");
    if (timer) {
      // Counted from the server's clock at render time, so that a wrong clock on the
      // customer's device does not shorten or stretch the offer.
      var end = Date.parse(timer.getAttribute("data-ak-expires")), handle = null;
      var skew = Date.parse(timer.getAttribute("data-ak-now")) - Date.now() || 0;
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      var tick = function () {
        var left = Math.floor((end - Date.now() - skew) / 1000);
        if (!(left > 0)) {
          timer.textContent = timer.getAttribute("data-ak-expired");
          root.className += " ak-coupon--expired";
          if (handle) { clearInterval(handle); }
          return false;
        }
        var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600);
        var m = Math.floor(left % 3600 / 60), s = left % 60;
        var word = timer.getAttribute(d === 1 ? "data-ak-day-one" : "data-ak-day-other");
        var time = (d > 0 ? d + " " + word + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
        timer.textContent = timer.getAttribute("data-ak-template").replace("{time}", time);
        return true;
      };
      if (tick()) { handle = setInterval(tick, 1000); }
    }
  };
  var start = function () {
    var roots = document.querySelectorAll('[data-ak-block="coupon"]');
    for (var i = 0; i < roots.length; i++) { coupon(roots[i]); }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
