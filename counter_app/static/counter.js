/* counter.js: counts page events; see the counter README. One global: counter(event). */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  var base = "/";
  var TRIES = 4; // a send and 3 retries, 0.5, 1 and 2 s apart, while the page lives
  try {
    // currentScript is null in old browsers and after execution: fall back to the last tag that loaded us.
    if (!me) {
      var tags = d.querySelectorAll('script[src*="counter.js"]');
      me = tags[tags.length - 1];
    }
    if (me && me.src) base = me.src.replace(/[^\/]*([?#].*)?$/, "");
  } catch (err) {}

  // Each hit has its own id, its retries the same: the counter counts an id once.
  function newId() {
    var c = w.crypto, s = "", i, a;
    if (c && c.randomUUID) return c.randomUUID(); // secure (https) pages only
    if (!c || !c.getRandomValues) return "";
    a = c.getRandomValues(new Uint8Array(16));
    for (i = 0; i < 16; i++) s += (a[i] + 256).toString(16).slice(1);
    return s;
  }

  function send(body, left) {
    function again() {
      if (--left > 0) setTimeout(function () { send(body, left); }, 500 << (TRIES - left - 1));
    }
    try {
      w.fetch(base, { method: "POST", body: body, keepalive: true, mode: "cors", credentials: "omit" })
        .then(function (r) { if (r.status == 429 || r.status == 503) again(); }, again);
    } catch (err) {}
  }

  function counter(event) {
    if (typeof event !== "string" || !event) return;
    try {
      var id = newId();
      var body = "e=" + encodeURIComponent(event) + (id && "&id=" + id);
      // fetch with keepalive outlives the page like a beacon, and EasyPrivacy blocks
      // every beacon to another site ($ping,third-party), so a beacon is the fallback.
      if (!w.fetch) return void w.navigator.sendBeacon(base, body);
      send(body, TRIES);
    } catch (err) {}
  }

  w.counter = counter;
  try {
    var first = me && me.getAttribute("data-event");
    if (first) counter(first);
  } catch (err) {}
})(window, document);
