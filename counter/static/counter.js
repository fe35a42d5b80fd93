/* Antre counter work screen.
   Plain ES5 (an old PC's browser), no build step. Text goes in with textContent only.
   The state shown is always re-read from the server (after every action, on every
   live event that concerns this counter, and after a reconnect): the page never
   guesses. Every action sends expect_current, the ticket the screen shows, so a
   double click or a second tab is refused by the server (409 stale_state) instead
   of calling a second ticket. */
(function () {
  "use strict";
  var A = window.Antre;
  var config = JSON.parse(document.getElementById("counter-config").textContent);
  A.i18n(config.messages);
  A.setLang(config.lang);
  var t = A.t;
  var counterId = config.counter_id;
  var base = "/api/v1/counters/" + counterId;
  var MAX_ROWS = 50;
  var KEYS = config.shortcuts;
  var ACTION_OF_KEY = {};
  Object.keys(KEYS).forEach(function (action) { ACTION_OF_KEY[KEYS[action]] = action; });

  var state = {
    counter: null, waiting: [], desk: null, services: {}, serviceList: [], counters: [],
    offset: 0, busy: false, lost: false, connected: null, loaded: false
  };

  function $(id) { return document.getElementById(id); }
  function closest(node, selector) {
    var proto = window.Element.prototype;
    var match = proto.matches || proto.msMatchesSelector || proto.webkitMatchesSelector;
    while (node && node.nodeType === 1) {
      if (match.call(node, selector)) return node;
      node = node.parentNode;
    }
    return null;
  }
  function show(node, on) { if (node) node.hidden = !on; }

  // ------------------------------------------------------------------ messages
  function say(text) {
    A.setText($("error"), "");
    A.setText($("message"), text);
  }
  function fail(text, code) {
    A.setText($("message"), "");
    A.setText($("error"), text);
    $("error").setAttribute("data-code", code || "");
  }

  // -------------------------------------------------------------------- helpers
  function current() { return state.counter ? state.counter.current_ticket : null; }
  function paused() { return !!state.counter && state.counter.status === "paused"; }
  function serviceName(id) {
    var s = state.services[id];
    if (!s) return "";
    return config.lang === "en" && s.name_en ? s.name_en : s.name;
  }
  function serverNow() { return Date.now() + state.offset; }
  function clockOf(iso) { return iso ? iso.substring(11, 16) : ""; }  // already in the MPP's zone
  function waitedText(iso) {
    var minutes = Math.floor((serverNow() - Date.parse(iso)) / 60000);
    if (!(minutes >= 1)) return t("< 1 menit");
    return t("%(n)s menit", { n: minutes });
  }
  function meanText(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    var s = Math.round(seconds);
    return t("%(m)s mnt %(s)s dtk", { m: Math.floor(s / 60), s: s % 60 });
  }

  // ------------------------------------------------------------ availability
  function available(action) {
    if (!state.loaded || state.lost || !state.counter) return false;
    var cur = current();
    switch (action) {
      case "next": return !paused();
      case "call_specific": return !paused();
      case "recall": return !!cur;
      case "start": return !!cur && cur.status === "called";
      case "finish": return !!cur;
      case "no_show": return !!cur && cur.status === "called";
      case "transfer": return !!cur;
      case "pause": return !paused() && !cur;
      case "resume": return paused();
    }
    return false;
  }

  // ----------------------------------------------------------------- rendering
  function renderCurrent() {
    var cur = current();
    show($("current-ticket"), !!cur && !state.lost);
    show($("paused-note"), paused() && !state.lost);
    show($("current-empty"), !cur && !paused() && !state.lost);
    show($("lost-note"), state.lost);
    if (!state.loaded) { A.setText($("current-empty"), t("Memuat…")); return; }
    A.setText($("current-empty"), t("Belum ada tiket dipanggil."));
    if (paused()) {
      A.setText($("paused-reason"), t("Alasan: %(reason)s", { reason: (state.desk && state.desk.pause_reason) || "-" }));
    }
    if (cur) {
      A.setText($("current-number"), cur.number);
      A.setText($("current-service"), serviceName(cur.service_id));
      var status = $("current-status");
      A.setText(status, cur.status === "serving" ? t("Sedang dilayani") : t("Dipanggil"));
      status.className = "badge badge-" + cur.status;
      show($("current-priority"), !!cur.priority);
      A.setText($("current-priority"), t("Prioritas"));
      A.setText($("current-when"), cur.called_at ? t("dipanggil %(time)s", { time: clockOf(cur.called_at) }) : "");
    }
    document.querySelector("main.work").setAttribute("data-state",
      state.lost ? "lost" : paused() ? "paused" : cur ? cur.status : "idle");
  }

  function renderActions() {
    var buttons = document.querySelectorAll("#actions .action");
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      var ok = available(b.getAttribute("data-action"));
      b.setAttribute("aria-disabled", ok && !state.busy ? "false" : "true");
    }
    A.setText($("act-next-label"), current() ? t("Selesai & panggil berikutnya") : t("Panggil berikutnya"));
    var actions = $("actions");
    if (state.busy) actions.setAttribute("aria-busy", "true"); else actions.removeAttribute("aria-busy");
  }

  function renderWaiting() {
    var rows = $("waiting-rows");
    while (rows.firstChild) rows.removeChild(rows.firstChild);
    var list = state.waiting;
    A.setText($("waiting-count"), "(" + list.length + ")");
    show($("waiting-empty"), list.length === 0);
    show($("waiting-table"), list.length > 0);
    var callable = available("call_specific");
    for (var i = 0; i < list.length && i < MAX_ROWS; i++) {
      var w = list[i];
      var tr = A.el("tr", { "class": i === 0 ? "is-next" : "", "data-number": w.number });
      var num = A.el("td", { "class": "number" });
      num.appendChild(A.el("span", { "class": "ticket-number" }, w.number));
      if (w.priority) num.appendChild(A.el("span", { "class": "badge badge-priority" }, t("Prioritas")));
      num.appendChild(A.el("span", { "class": "service-name" }, serviceName(w.service_id)));
      tr.appendChild(num);
      tr.appendChild(A.el("td", { "class": "num waited" }, waitedText(w.issued_at)));
      var cell = A.el("td", { "class": "row-action" });
      var btn = A.el("button", { type: "button", "class": "secondary small", "data-call": w.number,
                                 "aria-disabled": callable ? "false" : "true" });
      btn.appendChild(document.createTextNode(t("Panggil")));
      btn.appendChild(A.el("span", { "class": "visually-hidden" }, " " + w.number));
      cell.appendChild(btn);
      tr.appendChild(cell);
      rows.appendChild(tr);
    }
    var more = list.length - MAX_ROWS;
    show($("waiting-more"), more > 0);
    if (more > 0) A.setText($("waiting-more"), t("%(count)s lagi tidak ditampilkan.", { count: more }));
  }

  function renderDesk() {
    var d = state.desk;
    if (!d) return;
    A.setText($("stat-served"), d.served);
    A.setText($("stat-mean"), meanText(d.service_mean_s));
    A.setText($("stat-no-show"), d.no_show);
    if (state.lost) {
      var holder = d.holder ? " (" + d.holder.display_name + ")" : "";
      A.setText($("lost-text"), t("Loket ini tidak lagi dipegang oleh Anda.") + holder);
    }
  }

  function render() {
    renderCurrent();
    renderActions();
    renderWaiting();
    renderDesk();
  }

  // ---------------------------------------------------------------- loading
  var refreshing = false, again = false, refreshTimer = null;

  function loadStatic() {
    return Promise.all([A.api("/api/v1/services"), A.api("/api/v1/counters")]).then(function (r) {
      state.serviceList = r[0];
      state.services = {};
      r[0].forEach(function (s) { state.services[s.id] = s; });
      state.counters = r[1];
    });
  }

  function refresh() {
    if (refreshing) { again = true; return Promise.resolve(); }
    refreshing = true;
    var asked = Date.now();
    return Promise.all([A.api(base), A.api(base + "/waiting"), A.api(base + "/desk")]).then(function (r) {
      state.counter = r[0];
      state.waiting = r[1];
      state.desk = r[2];
      var generated = Date.parse(r[2].generated_at);
      if (!isNaN(generated)) state.offset = generated - (asked + Date.now()) / 2;
      state.lost = config.user.kind === "user" && (!r[2].holder || r[2].holder.id !== config.user.id);
      state.loaded = true;
      render();
    }, function (err) {
      if (err.code === "counter_not_taken" || err.code === "counter_taken" || err.code === "forbidden_counter") {
        state.lost = true;
        render();
      }
      if (err.status !== 0) fail(err.message, err.code);
    }).then(function () {
      refreshing = false;
      if (again) { again = false; return refresh(); }
    });
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 120);
  }

  // ---------------------------------------------------------------- actions
  var PATHS = { next: "/call-next", recall: "/recall", start: "/start", finish: "/finish", no_show: "/no-show",
                resume: "/resume", pause: "/pause", transfer: "/transfer", call_specific: "/call" };
  var DONE = {
    next: "%(number)s dipanggil.", recall: "%(number)s dipanggil ulang.", start: "%(number)s mulai dilayani.",
    finish: "%(number)s selesai dilayani.", no_show: "%(number)s ditandai tidak hadir.",
    transfer: "%(number)s dialihkan.", call_specific: "%(number)s dipanggil."
  };
  var DIALOGS = { transfer: true, call_specific: true, pause: true };

  function post(action, body, after) {
    var cur = current();
    body = body || {};
    if (action !== "pause" && action !== "resume") body.expect_current = cur ? cur.id : null;
    state.busy = true;
    renderActions();
    // Busy until the screen shows the outcome: a second press acts on what the clerk then sees.
    var outcome = null;
    function done() {
      state.busy = false;
      renderActions();
      if (outcome.ok) say(outcome.text); else fail(outcome.text, outcome.code);
    }
    return A.api(base + PATHS[action], { method: "POST", body: body }).then(function (data) {
      var number = (data && data.number) || (cur && cur.number) || "";
      var text = action === "pause" ? t("Loket istirahat.") : action === "resume" ? t("Loket dibuka kembali.")
        : t(DONE[action], { number: number });
      outcome = { ok: true, text: text };
      if (after) after(null);
      return refresh();
    }, function (err) {
      outcome = err.code === "queue_empty" ? { ok: true, text: t("Tidak ada antrian yang menunggu.") }
        : { ok: false, text: err.message, code: err.code };
      if (after) after(err);
      return refresh();
    }).then(done, done);
  }

  function run(action) {
    if (state.busy) return;
    if (!available(action)) { fail(t("Tidak tersedia sekarang.")); return; }
    if (DIALOGS[action]) { openDialog(action); return; }
    post(action);
  }

  // ---------------------------------------------------------------- dialogs
  var openModal = null, returnFocus = null;

  function dialogError(modal, text) { A.setText(modal.querySelector(".dialog-error"), text); }

  function openDialog(name, preset) {
    var modal = $("dlg-" + name);
    returnFocus = document.activeElement;
    dialogError(modal, "");
    if (name === "transfer") prepareTransfer(modal);
    if (name === "call_specific") {
      $("call-number").value = preset || "";
      $("call-reason").value = "";
    }
    if (name === "pause") {
      $("pause-other").value = "";
      modal.querySelector("input[name=reason]").checked = true;
    }
    modal.hidden = false;
    openModal = modal;
    setInert(true);
    var first = name === "call_specific" && preset ? $("call-reason") : modal.querySelector("input, select");
    if (first) first.focus();
  }

  function closeDialog() {
    if (!openModal) return;
    // Take the focus off the dialog's field now: the browser would only move it off the hidden
    // dialog at its next redraw, and a shortcut typed before that would count as typing there.
    if (openModal.contains(document.activeElement)) document.activeElement.blur();
    openModal.hidden = true;
    openModal = null;
    setInert(false);
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
  }

  function setInert(on) {
    var parts = [document.querySelector(".topbar"), document.querySelector("main"), $("conn-banner"),
                 document.querySelector(".skip-link")];
    parts.forEach(function (node) {
      if (!node) return;
      if (on) node.setAttribute("inert", ""); else node.removeAttribute("inert");
    });
  }

  function trapFocus(e) {
    if (!openModal || e.key !== "Tab") return;
    var nodes = openModal.querySelectorAll("input:not([disabled]), select:not([disabled]), button:not([disabled])");
    var visible = [];
    for (var i = 0; i < nodes.length; i++) if (nodes[i].offsetParent !== null) visible.push(nodes[i]);
    if (!visible.length) return;
    var first = visible[0], last = visible[visible.length - 1];
    if (e.shiftKey && document.activeElement === first) { last.focus(); e.preventDefault(); }
    else if (!e.shiftKey && document.activeElement === last) { first.focus(); e.preventDefault(); }
  }

  function prepareTransfer(modal) {
    var cur = current();
    A.setText(modal.querySelector(".dlg-number"), cur ? cur.number : "");
    var select = $("transfer-service");
    while (select.firstChild) select.removeChild(select.firstChild);
    var groups = {}, order = [];
    state.serviceList.forEach(function (s) {
      if (cur && s.id === cur.service_id) return;
      var key = s.tenant.id;
      if (!groups[key]) { groups[key] = A.el("optgroup", { label: s.tenant.name }); order.push(key); }
      groups[key].appendChild(A.el("option", { value: s.id }, s.code + " · " + serviceName(s.id)));
    });
    // The ticket's own agency first: a transfer mostly stays within it.
    var own = cur && state.services[cur.service_id] ? state.services[cur.service_id].tenant.id : null;
    order.sort(function (a, b) { return (a === own ? 0 : 1) - (b === own ? 0 : 1); });
    order.forEach(function (key) { select.appendChild(groups[key]); });

    var cs = $("transfer-counter");
    while (cs.firstChild) cs.removeChild(cs.firstChild);
    var count = 0;
    state.counters.forEach(function (c) {
      if (c.id === counterId || !cur || c.service_ids.indexOf(cur.service_id) < 0) return;
      cs.appendChild(A.el("option", { value: c.id }, c.name));
      count++;
    });
    $("transfer-mode-counter").disabled = count === 0;
    $("transfer-mode-service").checked = true;
    syncTransferMode();
  }

  function syncTransferMode() {
    var byCounter = $("transfer-mode-counter").checked;
    show($("transfer-service-field"), !byCounter);
    show($("transfer-counter-field"), byCounter);
  }

  function submitDialog(e) {
    e.preventDefault();
    var modal = openModal;
    if (!modal || state.busy) return;
    var name = modal.id.replace("dlg-", "");
    var body;
    if (name === "transfer") {
      if ($("transfer-mode-counter").checked) body = { counter_id: parseInt($("transfer-counter").value, 10) };
      else body = { service_id: parseInt($("transfer-service").value, 10) };
      if (isNaN(body.counter_id === undefined ? body.service_id : body.counter_id)) {
        dialogError(modal, t("Pilih tujuan.")); return;
      }
    } else if (name === "call_specific") {
      var number = $("call-number").value.replace(/\s+/g, "").toUpperCase();
      var reason = $("call-reason").value.trim();
      if (!number) { dialogError(modal, t("Isi nomor antrian.")); $("call-number").focus(); return; }
      if (reason.length < 3) { dialogError(modal, t("Isi alasan (minimal 3 huruf).")); $("call-reason").focus(); return; }
      body = { number: number, reason: reason };
    } else {
      var checked = modal.querySelector("input[name=reason]:checked");
      var why = checked && checked.value ? checked.value : $("pause-other").value.trim();
      if (why.length < 3) { dialogError(modal, t("Isi alasan (minimal 3 huruf).")); $("pause-other").focus(); return; }
      body = { reason: why };
    }
    post(name, body, function (err) {
      if (!err) { closeDialog(); return; }
      dialogError(modal, err.code === "queue_empty" ? t("Tidak ada antrian yang menunggu.") : err.message);
    });
  }

  // -------------------------------------------------------------- keyboard
  var shortcutsOn = true;
  try { shortcutsOn = window.localStorage.getItem("antre.counter.shortcuts") !== "off"; } catch (e) { /* private mode */ }
  $("shortcuts-on").checked = shortcutsOn;
  $("shortcuts-on").addEventListener("change", function () {
    shortcutsOn = this.checked;
    try { window.localStorage.setItem("antre.counter.shortcuts", shortcutsOn ? "on" : "off"); } catch (e) { /* ignore */ }
    say(shortcutsOn ? t("Pintasan keyboard aktif.") : t("Pintasan keyboard nonaktif."));
  });

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (e) {
    if (openModal) {
      if (e.key === "Escape" || e.key === "Esc") { e.preventDefault(); closeDialog(); return; }
      trapFocus(e);
      return;
    }
    if (!shortcutsOn || e.ctrlKey || e.altKey || e.metaKey || typing(e.target)) return;
    var key = e.key && e.key.length === 1 ? e.key.toUpperCase() : String.fromCharCode(e.keyCode || 0);
    var action = ACTION_OF_KEY[key];
    if (!action) return;
    e.preventDefault();
    run(action);
  });

  // ------------------------------------------------------------------- clicks
  $("actions").addEventListener("click", function (e) {
    var button = closest(e.target, "button[data-action]");
    if (button) run(button.getAttribute("data-action"));
  });
  $("waiting-rows").addEventListener("click", function (e) {
    var button = closest(e.target, "button[data-call]");
    if (!button || state.busy) return;
    if (!available("call_specific")) { fail(t("Tidak tersedia sekarang.")); return; }
    openDialog("call_specific", button.getAttribute("data-call"));
  });
  ["dlg-transfer", "dlg-call_specific", "dlg-pause"].forEach(function (id) {
    var modal = $(id);
    modal.querySelector("form").addEventListener("submit", submitDialog);
    modal.querySelector("[data-close]").addEventListener("click", closeDialog);
    modal.addEventListener("click", function (e) { if (e.target === modal) closeDialog(); });
  });
  $("transfer-mode-service").addEventListener("change", syncTransferMode);
  $("transfer-mode-counter").addEventListener("change", syncTransferMode);
  $("pause-other").addEventListener("input", function () {
    if (this.value) $("pause-reason-other").checked = true;
  });

  // -------------------------------------------------------------- live data
  function concerns(event) {
    var tk = event && event.ticket;
    if (!tk) return false;
    return tk.counter_id === counterId || event.counter_id === counterId ||
      (state.counter && state.counter.service_ids.indexOf(tk.service_id) >= 0);
  }

  var bannerTimer = null;
  function onConnection(up) {
    var banner = $("conn-banner");
    if (up) {
      if (bannerTimer) { clearTimeout(bannerTimer); bannerTimer = null; }
      var wasDown = state.connected === false && !banner.hidden;
      banner.hidden = true;
      state.connected = true;
      if (wasDown) {
        // Fresh state: anything may have changed while we were away.
        loadStatic().then(refresh).then(function () { say(t("Tersambung kembali; data diperbarui.")); });
      }
      return;
    }
    if (state.connected === false) return;
    state.connected = false;
    bannerTimer = setTimeout(function () {
      bannerTimer = null;
      if (state.connected) return;
      A.setText(banner, t("Koneksi ke server terputus. Mencoba menyambung kembali…"));
      banner.hidden = false;
    }, 800);
  }

  var socket = A.connect({}, {
    "ticket:event": function (event) { if (concerns(event)) scheduleRefresh(); },
    "counter:changed": function (p) { if (p && p.counter && p.counter.id === counterId) scheduleRefresh(); },
    "queue:changed": function (p) {
      if (p && state.counter && state.counter.service_ids.indexOf(p.service_id) >= 0) scheduleRefresh();
    }
  }, onConnection);
  socket.on("connect", function () {
    socket.emit("subscribe", { counter_id: counterId });
    if (state.loaded) scheduleRefresh();
  });

  // Minutes waited move on by themselves; a slow full refresh repairs any missed event.
  setInterval(function () { if (state.loaded) renderWaiting(); }, 30000);
  setInterval(function () { if (state.connected) refresh(); }, 60000);

  render();
  loadStatic().then(refresh, function (err) { fail(err.message); });
})();
