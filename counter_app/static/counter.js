/* counter.js: counts page events; see the counter README. One global: counter(event). */
(function (w, d) {
  "use strict";
  var noop = function () {};
  var me = d.currentScript;
  var base = "/";
  try {
    // currentScript is null in old browsers and after execution: fall back to the last tag that loaded us.
    if (!me) {
      var tags = d.querySelectorAll('script[src*="counter.js"]');
      me = tags[tags.length - 1];
    }
    if (me && me.src) base = me.src.replace(/[^\/]*([?#].*)?$/, "");
  } catch (err) {}

  function counter(event) {
    if (typeof event !== "string" || !event) return;
    try {
      var body = "e=" + encodeURIComponent(event);
      // fetch with keepalive outlives the page like a beacon, and EasyPrivacy blocks
      // every beacon to another site ($ping,third-party), so a beacon is the fallback.
      if (!w.fetch) return void w.navigator.sendBeacon(base, body);
      w.fetch(base, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit" })
        .then(noop, noop);
    } catch (err) {}
  }

  w.counter = counter;
  try {
    var first = me && me.getAttribute("data-event");
    if (first) counter(first);
  } catch (err) {}
})(window, document);
