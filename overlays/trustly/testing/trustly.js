/*
 * A stand-in for Trustly's JavaScript library, served by the local simulator at
 * /_simulator/start/scripts/trustly.js (Trustly serves its own at /start/scripts/trustly.js).
 * A checkout page that loads it instead of Trustly's works unchanged against the simulator:
 *
 *   <script src="http://127.0.0.1:8089/_simulator/start/scripts/trustly.js?accessId=..."></script>
 *   Trustly.establish(establishData, options);
 *
 * establish() opens the simulator's Lightbox in an overlay on the page: the signed Establish Data
 * go to the simulator, which checks the requestSignature and creates the transaction; the
 * customer then picks Demo Bank, logs in, picks an account and authorizes or cancels, and the
 * whole page goes to the returnUrl or cancelUrl with signed parameters. `options` is accepted
 * and not used. No build step, no external assets.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var root = script.src.replace(/\/start\/scripts\/trustly\.js(\?.*)?$/, "");
  var opened = 0;

  function establish(data, options) {
    if (data === null || typeof data !== "object") {
      throw new TypeError("Trustly.establish needs the Establish Data object");
    }
    var overlay = document.getElementById("trustly-lightbox-overlay");
    if (overlay !== null) {
      overlay.parentNode.removeChild(overlay);
    }
    opened += 1;
    var name = "trustly-lightbox-" + opened;
    overlay = document.createElement("div");
    overlay.id = "trustly-lightbox-overlay";
    overlay.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.5);" +
      "display:flex;align-items:center;justify-content:center");
    var frame = document.createElement("iframe");
    frame.name = name;
    frame.id = "trustly-lightbox";
    frame.title = "Trustly Lightbox";
    frame.setAttribute("style", "width:420px;max-width:100%;height:640px;max-height:100%;border:0;" +
      "border-radius:8px;background:#fff");
    overlay.appendChild(frame);
    document.body.appendChild(overlay);

    var form = document.createElement("form");
    form.method = "POST";
    form.action = root + "/lightbox";
    form.target = name;
    form.style.display = "none";
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = "establishData";
    field.value = JSON.stringify(data);
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
    form.parentNode.removeChild(form);
  }

  window.Trustly = {
    establish: establish,
    // The bank list is the Lightbox's first page here, so the widget opens the same flow.
    selectBankWidget: function (data, options) {
      establish(data, options);
    }
  };
})();
