/* The small display above a counter (/display/counter/<id>): its current number.

   Joins the counter's room with `subscribe {counter_id}`; draws itself from
   `queue:state` and follows `counter:changed` and `ticket:called` for this
   counter only.  Other event names are ignored. */
(function () {
  "use strict";

  var NEW_CALL_MS = 8000;
  var cfg = JSON.parse(document.getElementById("counter-config").textContent);
  Antre.i18n(cfg.messages);
  Antre.setLang(cfg.lang);
  var t = Antre.t;
  var $ = function (id) { return document.getElementById(id); };
  var timer = null;
  var seen = {};
  window.__antreCalls = [];

  function statusText(c) {
    if (c.status === "paused") return t("Istirahat");
    if (c.current_status === "called") return t("Dipanggil");
    if (c.current_status === "serving") return t("Dilayani");
    return "";
  }

  function draw(c) {
    Antre.setText($("cs-number"), c.current_number || "—");
    Antre.setText($("cs-status"), statusText(c));
    document.body.classList.toggle("paused", c.status === "paused");
  }

  function flash() {
    var box = $("cs");
    box.classList.remove("is-new");
    void box.offsetWidth;
    box.classList.add("is-new");
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { box.classList.remove("is-new"); }, NEW_CALL_MS);
  }

  var socket = Antre.connect({}, {
    "queue:state": function (s) {
      if (!s || !Array.isArray(s.counters)) return;
      s.counters.forEach(function (c) { if (c.id === cfg.counter_id) draw(c); });
      (s.recent_calls || []).forEach(function (c) { seen[c.event_id] = true; });
    },
    "counter:changed": function (p) {
      if (p && p.counter && p.counter.id === cfg.counter_id) draw(p.counter);
    },
    "ticket:called": function (p) {
      if (!p || !p.counter || p.counter.id !== cfg.counter_id || !p.ticket) return;
      if (typeof p.event_id === "number") {
        if (seen[p.event_id]) return;
        seen[p.event_id] = true;
      }
      draw({ status: "open", current_number: p.ticket.number, current_status: "called" });
      flash();
      window.__antreCalls.push({ event_id: p.event_id, number: p.ticket.number, shown: performance.now() });
    }
  }, function (connected) {
    $("cs-offline").hidden = connected;
    document.body.classList.toggle("offline", !connected);
  });
  socket.on("connect", function () { socket.emit("subscribe", { counter_id: cfg.counter_id }); });
  window.__antreSocket = socket;
})();
