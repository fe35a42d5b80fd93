/* Overview: live figures over Socket.IO (the staff room). */
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  function setStatus(online) {
    status.textContent = status.getAttribute(online ? "data-online" : "data-offline");
  }
  function total() {
    var sum = 0;
    Array.prototype.forEach.call(document.querySelectorAll(".s-waiting"), function (cell) {
      sum += parseInt(cell.textContent, 10) || 0;
    });
    Antre.setText("#total-waiting", sum);
  }
  function service(change) {
    var row = document.querySelector('tr[data-service="' + change.service_id + '"]');
    if (!row) return;
    Antre.setText(row.querySelector(".s-waiting"), change.waiting);
    Antre.setText(row.querySelector(".s-eta"), change.eta_minutes);
  }
  function counter(c) {
    var row = document.querySelector('tr[data-counter="' + c.id + '"]');
    if (!row) return;
    var cell = row.querySelector(".c-status");
    Antre.setText(cell, cell.getAttribute(c.status === "open" ? "data-open" : "data-paused"));
    Antre.setText(row.querySelector(".c-number"), c.current_number || "–");
  }
  Antre.connect({}, {
    "queue:state": function (state) {
      (state.services || []).forEach(function (s) { service({ service_id: s.id, waiting: s.waiting, eta_minutes: s.eta_minutes }); });
      (state.counters || []).forEach(counter);
      total();
    },
    "queue:changed": function (change) { service(change); total(); },
    "counter:changed": function (data) { if (data && data.counter) counter(data.counter); },
    "config:changed": function (data) {
      // Services or counters were added or removed: redraw the tables from the server.
      var what = (data && data.what) || [];
      if (what.indexOf("services") >= 0 || what.indexOf("counters") >= 0) window.location.reload();
    }
  }, setStatus);
})();
