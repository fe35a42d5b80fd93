/* The ticket kiosk page.

   Screens: start -> tenants -> services -> priority -> ticket, and start -> booking -> ticket.
   Data: the snapshot in #kiosk-config, then Socket.IO ("kiosks" room: queue:state, queue:changed;
   the kiosk's own room: print:result) and the REST API (tickets, check-in, print status).
   Input: touch; keyboard / numeric keypad (Tab, arrows, Enter, 1-9 pick the n-th option,
   0 back, * speech, / language, + more time); a single switch (scanning mode: the focus
   steps through the options, Enter or Space picks); a barcode scanner typing a booking
   code and Enter on the start screen.
   Text reaches the page with textContent only. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("kiosk-config").textContent);
  Antre.i18n(cfg.messages);
  var t = Antre.t;
  var $ = function (id) { return document.getElementById(id); };
  function setText(id, text) { return Antre.setText($(id), text); }
  var body = document.body;

  var SCREENS = ["start", "tenants", "services", "priority", "booking", "ticket"];
  var PREFS = ["speech", "hc", "large", "reach", "scan"];
  var SCAN_GAP_MS = 60;     // a barcode scanner types faster than this between keys
  var DIGIT_WAIT_MS = 150;  // a lone digit on the start screen is a menu choice after this

  var services = {};        // id -> service
  var serviceOrder = [];    // ids in display order
  var tenants = [];
  var state = { screen: "start", tenant: null, service: null, ticket: null, ticketService: null, busy: false,
                printFinal: false, resetting: false };
  var prefs = { speech: false, hc: false, large: false, reach: false, scan: false };
  var lastIssue = loadLastIssue();
  var timers = { idle: null, print: [], scan: null, digit: null };
  var idle = { deadline: 0, seconds: cfg.idle_seconds, warned: false };
  var keyBuffer = { text: "", last: 0 };
  var dialogState = null;
  var quietFocus = false;

  // --------------------------------------------------------------- data

  function setServices(list) {
    services = {}; serviceOrder = [];
    (list || []).forEach(function (s) { services[s.id] = s; serviceOrder.push(s.id); });
  }
  function setTenants(list) { tenants = list || []; }
  setServices(cfg.services);
  setTenants(cfg.tenants);

  function lang() { return Antre.getLang(); }
  function nameOf(item) { return lang() === "en" && item.name_en ? item.name_en : item.name; }
  function servicesOf(tenantId) {
    return serviceOrder.map(function (id) { return services[id]; })
      .filter(function (s) { return s.tenant && s.tenant.id === tenantId; });
  }
  function unavailable(s) {
    if (!s.open) return "closed";
    if (s.quota_left === 0) return "quota";
    return null;
  }

  function refreshServices() {
    return Antre.api("/api/v1/services").then(function (list) {
      setServices(list);
      rerender();
    }, function () { /* the socket snapshot repairs it */ });
  }

  // ---------------------------------------------------------- formatting

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(date) {
    return pad(date.getHours()) + (lang() === "id" ? "." : ":") + pad(date.getMinutes());
  }
  function formatEta(minutes) {
    if (minutes === null || minutes === undefined) return t("eta_unknown");
    if (minutes < 1) return t("eta_now");
    if (minutes < 60) return t("minutes", { n: minutes });
    return t("hours_minutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
  }
  function dayWord(date) {
    var today = new Date(); today.setHours(0, 0, 0, 0);
    var that = new Date(date.getTime()); that.setHours(0, 0, 0, 0);
    var days = Math.round((that - today) / 86400000);
    if (days === 0) return { text: t("today"), key: "ui.today" };
    if (days === 1) return { text: t("tomorrow"), key: "ui.tomorrow" };
    return { text: t("day_" + date.getDay()), key: "ui.day_" + date.getDay() };
  }
  function opensText(iso) {
    if (!iso) return t("closed");
    var date = new Date(iso);
    var day = dayWord(date);
    return t("opens_at", { when: day.text + " " + clock(date) });
  }
  function opensKeys(iso) {
    if (!iso) return [];
    var date = new Date(iso);
    return ["ui.opens_again", dayWord(date).key, "time." + pad(date.getHours()) + pad(date.getMinutes())];
  }
  function countKey(n) { return "count." + Math.max(0, Math.min(9999, n | 0)); }

  // ------------------------------------------------------------ speech

  var voice = $("k-voice");
  function speak(keys) {
    if (!prefs.speech || !keys || !keys.length) return;
    keys = keys.filter(Boolean).slice(0, 8);
    voice.pause();
    voice.src = "/kiosk/speech/" + lang() + ".wav?keys=" + encodeURIComponent(keys.join(","));
    var played = voice.play();
    if (played && played.catch) played.catch(function () { /* no audio device: the screen still works */ });
  }
  function sayKeys(el) {
    var raw = el && el.getAttribute("data-say");
    return raw ? raw.split(",") : [];
  }
  document.addEventListener("focusin", function (event) {
    if (quietFocus) return;
    var keys = sayKeys(event.target);
    if (keys.length) speak(keys);
  });

  // --------------------------------------------------------------- i18n

  function applyTexts() {
    document.querySelectorAll("[data-t]").forEach(function (node) { Antre.setText(node, t(node.getAttribute("data-t"))); });
    $("btn-lang").setAttribute("lang", lang() === "id" ? "en" : "id");
    document.title = t("app_title") + " · " + cfg.mpp_name;
    clockTick();
    tick();
  }
  function setLanguage(next) {
    Antre.setLang(next);
    applyTexts();
    rerender();
  }

  // ----------------------------------------------------------- rendering

  function el(tag, attrs, text) { return Antre.el(tag, attrs, text); }
  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "k-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var use = document.createElementNS("http://www.w3.org/2000/svg", "use");
    var known = document.getElementById("i-" + name) ? name : "building";
    use.setAttribute("href", "#i-" + known);
    svg.appendChild(use);
    return svg;
  }
  function numberBadge(i) { return el("span", { "class": "k-num", "aria-hidden": "true" }, i < 9 ? String(i + 1) : ""); }

  function renderTenants() {
    var list = $("tenant-list");
    var focusedId = document.activeElement && document.activeElement.getAttribute("data-tenant");
    list.textContent = "";
    var shown = tenants.filter(function (tn) { return servicesOf(tn.id).length > 0; });
    shown.forEach(function (tn, i) {
      var own = servicesOf(tn.id);
      var waiting = own.reduce(function (sum, s) { return sum + (s.waiting || 0); }, 0);
      var anyOpen = own.some(function (s) { return !unavailable(s); });
      var button = el("button", { type: "button", "class": "k-option" + (anyOpen ? "" : " k-unavailable"),
                                  "data-tenant": String(tn.id),
                                  "data-say": ["tenant." + tn.id, countKey(waiting), "ui.people_waiting"].join(",") });
      button.appendChild(numberBadge(i));
      button.appendChild(icon(tn.icon));
      var text = el("span", { "class": "k-text" });
      text.appendChild(el("span", { "class": "k-label" }, nameOf(tn)));
      text.appendChild(el("span", { "class": anyOpen ? "k-meta" : "k-state" },
                          anyOpen ? t("waiting_n", { n: waiting }) : t("closed")));
      button.appendChild(text);
      button.addEventListener("click", function () { chooseTenant(tn); });
      list.appendChild(button);
    });
    refocus(list, "data-tenant", focusedId);
  }

  function serviceMeta(s) {
    var why = unavailable(s);
    if (why === "closed") return { state: t("closed") + " · " + opensText(s.opens_at), keys: ["ui.closed"].concat(opensKeys(s.opens_at)) };
    if (why === "quota") return { state: t("quota_full"), keys: ["ui.quota_full"] };
    var meta = t("waiting_n", { n: s.waiting });
    if (s.eta_minutes) meta += " · ± " + formatEta(s.eta_minutes);
    if (s.quota_left !== null && s.quota_left !== undefined) meta += " · " + t("quota_left", { n: s.quota_left });
    var keys = [countKey(s.waiting), "ui.people_waiting"];
    if (s.eta_minutes) keys = keys.concat(["ui.wait_about", countKey(s.eta_minutes), "ui.minutes_word"]);
    return { meta: meta, keys: keys };
  }

  function renderServices() {
    if (!state.tenant) return;
    var list = $("service-list");
    var focusedId = document.activeElement && document.activeElement.getAttribute("data-service");
    list.textContent = "";
    setText("services-tenant", nameOf(state.tenant));
    servicesOf(state.tenant.id).forEach(function (s, i) {
      var info = serviceMeta(s);
      var button = el("button", { type: "button", "class": "k-option" + (info.state ? " k-unavailable" : ""),
                                  "data-service": String(s.id), "aria-disabled": info.state ? "true" : null,
                                  "data-say": ["service." + s.id].concat(info.keys).join(",") });
      button.appendChild(numberBadge(i));
      var text = el("span", { "class": "k-text" });
      text.appendChild(el("span", { "class": "k-label" }, nameOf(s)));
      if (info.state) text.appendChild(el("span", { "class": "k-state" }, info.state));
      else text.appendChild(el("span", { "class": "k-meta" }, info.meta));
      button.appendChild(text);
      button.addEventListener("click", function () { chooseService(s); });
      list.appendChild(button);
    });
    refocus(list, "data-service", focusedId);
  }

  function refocus(list, attr, id) {
    if (!id) return;
    var again = list.querySelector("[" + attr + "='" + id + "']");
    if (again) { quietFocus = true; again.focus(); quietFocus = false; }
  }

  function rerender() {
    if (state.screen === "tenants") renderTenants();
    if (state.screen === "services") renderServices();
    if (state.screen === "priority" && state.service) setText("priority-service", nameOf(state.service));
    if (state.screen === "ticket" && state.ticket) fillTicket();
  }

  // ------------------------------------------------------------- screens

  var SCREEN_SAY = { start: "ui.say_start", tenants: "ui.say_tenants", services: "ui.say_services",
                     priority: "ui.say_priority", booking: "ui.say_booking" };

  function show(screen, opts) {
    opts = opts || {};
    SCREENS.forEach(function (name) { $("s-" + name).hidden = name !== screen; });
    state.screen = screen;
    body.setAttribute("data-screen", screen);
    $("btn-back").hidden = screen === "start" || screen === "ticket";
    $("btn-home").hidden = screen === "start" || screen === "ticket";
    rerender();
    $("k-main").scrollTop = 0;
    setText("k-live", $("s-" + screen).querySelector("h1").textContent);
    var first = (opts.focus && document.querySelector(opts.focus)) || firstOption();
    quietFocus = true;
    if (first) first.focus(); else $("s-" + screen).querySelector("h1").focus();
    quietFocus = false;
    if (opts.say) speak(opts.say);
    else if (SCREEN_SAY[screen]) speak([SCREEN_SAY[screen]].concat(sayKeys(first)).slice(0, 8));
    restartIdle();
  }

  function firstOption() {
    var opts = options();
    return opts.length ? opts[0] : null;
  }
  function options() {
    if (dialogState) return Array.prototype.slice.call($("k-dialog-actions").querySelectorAll("button"));
    var screen = $("s-" + state.screen);
    if (state.screen === "booking") return [$("booking-code")];
    return Array.prototype.slice.call(screen.querySelectorAll(".k-options button:not([hidden])"));
  }

  function back() {
    if (dialogState) { closeDialog(dialogState.cancel); return; }
    switch (state.screen) {
      case "tenants": case "booking": show("start"); break;
      case "services": show("tenants", { focus: tenantSel(state.tenant) }); break;
      case "priority": show("services", { focus: serviceSel(state.service) }); break;
      case "ticket": reset(); break;
      default: break;
    }
  }
  function tenantSel(tn) { return tn ? "#tenant-list [data-tenant='" + tn.id + "']" : null; }
  function serviceSel(s) { return s ? "#service-list [data-service='" + s.id + "']" : null; }

  /** Back to the start, as a new visitor finds it: Indonesian, no access modes left on. */
  function reset() {
    state.resetting = true;
    idle.deadline = Date.now() + 3600000;
    closeDialog(null, true);
    clearPrintTimers();
    state.tenant = state.service = state.ticket = null;
    state.busy = false;
    $("s-ticket").classList.remove("k-fallback-on");
    $("booking-code").value = "";
    setText("booking-error", "");
    PREFS.forEach(function (p) { setPref(p, false); });
    if (lang() !== "id") setLanguage("id");
    state.resetting = false;
    show("start");
  }

  function chooseTenant(tn) {
    state.tenant = tn;
    show("services");
  }

  function chooseService(s) {
    var why = unavailable(s);
    if (why === "closed") {
      openDialog({ title: t("err_closed_title"), text: t("err_closed") + " " + opensText(s.opens_at),
                   say: ["ui.say_closed"].concat(opensKeys(s.opens_at)) });
      return;
    }
    if (why === "quota") {
      openDialog({ title: t("err_quota_title"), text: t("err_quota"), say: ["ui.say_quota"] });
      return;
    }
    state.service = s;
    show("priority");
  }

  function choosePriority(reason) {
    var s = state.service;
    if (!s || state.busy) return;
    var guard = cfg.repeat_guard_seconds * 1000;
    if (lastIssue && lastIssue.service_id === s.id && Date.now() - lastIssue.at < guard) {
      openDialog({
        title: t("confirm_again_title"), text: t("confirm_again", { number: lastIssue.number }),
        say: ["ui.confirm_again_title"],
        buttons: [{ key: "confirm_no", value: false, primary: true }, { key: "confirm_yes", value: true }],
        cancel: false,
        done: function (yes) { if (yes) issue(s, reason); }
      });
      return;
    }
    issue(s, reason);
  }

  // --------------------------------------------------------- issuing

  /** POST with the page's session: CSRF header, and the header that asks a staff session to print. */
  function post(path, payload) {
    var headers = { "Accept": "application/json", "Content-Type": "application/json",
                    "X-CSRF-Token": Antre.csrf() };
    if (cfg.staff_view) headers["X-Antre-Kiosk"] = "1";
    return fetch(path, { method: "POST", headers: headers, credentials: "same-origin",
                         body: JSON.stringify(payload || {}) })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (!response.ok) {
            var err = (data && data.error) || {};
            throw new Antre.ApiError(response.status, err.code || "http_" + response.status, err.message || "");
          }
          return data;
        });
      }, function () { throw new Antre.ApiError(0, "offline", t("err_offline")); });
  }

  function busy(on, textKey) {
    state.busy = on;
    body.classList.toggle("k-busy", on);
    if (on && textKey) setText("k-live", t(textKey));
  }

  function issue(s, reason) {
    busy(true, "issuing");
    var payload = { service_id: s.id, priority: !!reason, lang: lang() };
    if (reason) payload.priority_reason = reason;
    post("/api/v1/tickets", payload).then(function (ticket) {
      busy(false);
      lastIssue = { service_id: s.id, number: ticket.number, at: Date.now() };
      saveLastIssue();
      showTicket(ticket, s);
      refreshServices();
    }, function (err) {
      busy(false);
      issueFailed(err, s);
    });
  }

  function issueFailed(err, s) {
    refreshServices();
    if (err.code === "service_closed") {
      openDialog({ title: t("err_closed_title"), text: t("err_closed"), say: ["ui.say_closed"],
                   done: function () { show("services", { focus: serviceSel(s) }); } });
    } else if (err.code === "quota_reached") {
      openDialog({ title: t("err_quota_title"), text: t("err_quota"), say: ["ui.say_quota"],
                   done: function () { show("services", { focus: serviceSel(s) }); } });
    } else {
      openDialog({ title: t("err_generic_title"), text: err.code === "offline" ? t("err_offline") : t("err_generic"),
                   say: ["ui.err_generic"] });
    }
  }

  // ----------------------------------------------------------- booking

  var BOOKING_RE = /^[A-Z0-9]{4,32}$/;

  function buildKeyboard() {
    var keys = $("booking-keys");
    "1234567890QWERTYUIOPASDFGHJKLZXCVBNM".split("").forEach(function (ch) {
      var b = el("button", { type: "button", "class": "secondary", "data-key": ch, "data-say": /[0-9]/.test(ch) ? "count." + ch : null }, ch);
      b.addEventListener("click", function () { typeKey(ch); });
      keys.appendChild(b);
    });
    var del = el("button", { type: "button", "class": "secondary k-key-wide", "data-t": "delete", "data-say": "ui.delete" }, t("delete"));
    del.addEventListener("click", function () { typeKey(null); });
    keys.appendChild(del);
  }
  function typeKey(ch) {
    var input = $("booking-code");
    input.value = ch === null ? input.value.slice(0, -1) : (input.value + ch).slice(0, 32);
    setText("booking-error", "");
    restartIdle();
  }

  function checkIn(code) {
    code = (code || "").trim().toUpperCase();
    if (!BOOKING_RE.test(code)) {
      if (state.screen !== "booking") show("booking");
      $("booking-code").value = code.slice(0, 32);
      setText("booking-error", t("booking_short"));
      speak(["ui.booking_short"]);
      return;
    }
    if (state.busy) return;
    busy(true, "checking_in");
    post("/api/v1/bookings/" + encodeURIComponent(code) + "/check-in", { lang: lang() }).then(function (ticket) {
      busy(false);
      $("booking-code").value = "";
      showTicket(ticket, services[ticket.service_id] || null);
      refreshServices();
    }, function (err) {
      busy(false);
      var text = t("err_generic");
      if (err.code === "booking_not_found") text = t("err_booking_unknown");
      else if (err.code === "booking_used") text = t("err_booking_used");
      else if (/^booking_(expired|too_early|not_today|cancelled)$/.test(err.code)) text = t("err_booking_time");
      else if (err.code === "service_closed") text = t("err_closed");
      else if (err.code === "offline") text = t("err_offline");
      openDialog({ title: t("err_booking_title"), text: text, say: ["ui.err_booking_title"],
                   done: function () { if (state.screen !== "booking") show("booking"); } });
    });
  }

  // ------------------------------------------------------------- ticket

  function showTicket(ticket, s) {
    state.ticket = ticket;
    state.ticketService = s;
    state.printFinal = false;
    $("s-ticket").classList.remove("k-fallback-on");
    $("t-fallback").hidden = true;
    $("t-print").classList.remove("k-ok");
    $("t-print").hidden = false;
    setText("t-print-text", t("printing"));
    $("t-qr").src = "/kiosk/qr/" + ticket.id + ".svg";
    fillTicket();
    var say = ["ui.screen_ticket", "number." + ticket.number, "ui.people_ahead", countKey(ticket.position || 0)];
    if (ticket.eta_minutes !== null && ticket.eta_minutes !== undefined) say = say.concat(["ui.eta", countKey(ticket.eta_minutes), "ui.minutes_word"]);
    show("ticket", { say: say });
    watchPrint(ticket.id);
  }

  function fillTicket() {
    var ticket = state.ticket, s = state.ticketService;
    setText("t-number", ticket.number);
    $("t-priority").hidden = !ticket.priority;
    setText("t-service", s ? nameOf(s) : "");
    setText("t-tenant", s && s.tenant ? tenantName(s.tenant.id) : "");
    setText("t-ahead", ticket.position === null || ticket.position === undefined ? "–" : String(ticket.position));
    setText("t-eta", formatEta(ticket.eta_minutes));
    setText("t-counters", (cfg.counters[ticket.service_id] || []).join(", ") || "–");
    var issued = new Date(ticket.issued_at);
    setText("t-issued", Antre.formatDate(issued, lang()) + " " + clock(issued));
    $("t-qr").alt = t("qr_alt", { number: ticket.number });
  }
  function tenantName(id) {
    for (var i = 0; i < tenants.length; i++) if (tenants[i].id === id) return nameOf(tenants[i]);
    return "";
  }

  function clearPrintTimers() {
    timers.print.forEach(clearTimeout);
    timers.print = [];
  }
  /** Follow the print job: a print:result event, else a poll; no final answer in time = show the fallback. */
  function watchPrint(ticketId) {
    clearPrintTimers();
    [2500, 5000, 8000].forEach(function (ms) {
      timers.print.push(setTimeout(function () { pollPrint(ticketId, false); }, ms));
    });
    timers.print.push(setTimeout(function () { pollPrint(ticketId, true); }, cfg.print_wait_seconds * 1000));
  }
  function pollPrint(ticketId, last) {
    if (!state.ticket || state.ticket.id !== ticketId || state.printFinal) return;
    Antre.api("/api/v1/tickets/" + ticketId + "/print").then(function (job) {
      printUpdate({ ticket_id: ticketId, state: job.state, fallback: job.state !== "printed" && job.attempts > 0,
                    will_retry: job.state === "retrying" || job.state === "queued" });
      if (last && !state.printFinal) fallback(true);
    }, function () { if (last) fallback(false); });
  }
  function printUpdate(result) {
    if (!state.ticket || result.ticket_id !== state.ticket.id) return;
    if (result.state === "printed") {
      if (state.printFinal && !$("t-fallback").hidden) {
        $("t-fallback").hidden = true;
        $("s-ticket").classList.remove("k-fallback-on");
      }
      state.printFinal = true;
      clearPrintTimers();
      $("t-print").hidden = false;
      $("t-print").classList.add("k-ok");
      setText("t-print-text", t("printed"));
      speak(["ui.printed"]);
      return;
    }
    if (result.fallback) fallback(!!result.will_retry);
  }
  function fallback(later) {
    if (!state.ticket) return;
    var already = state.printFinal && !$("t-fallback").hidden;
    state.printFinal = true;
    clearPrintTimers();
    $("t-print").hidden = true;
    $("t-fallback").hidden = false;
    $("t-fallback-later").hidden = !later;
    $("s-ticket").classList.add("k-fallback-on");
    if (!already) {
      setText("k-live", t("photo_screen") + ". " + t("print_failed"));
      speak(["ui.say_print_failed", "ui.screen_ticket", "number." + state.ticket.number]);
    }
    restartIdle(cfg.fallback_idle_seconds);
  }

  // -------------------------------------------------------------- dialog

  /** A modal message or question; buttons are 1, 2, ... on the keypad, 0 cancels. */
  function openDialog(spec) {
    var buttons = spec.buttons || [{ key: "ok", value: null, primary: true }];
    dialogState = { done: spec.done || null, cancel: spec.cancel === undefined ? null : spec.cancel,
                    returnFocus: document.activeElement };
    setText("k-dialog-title", spec.title);
    setText("k-dialog-text", spec.text);
    var actions = $("k-dialog-actions");
    actions.textContent = "";
    buttons.forEach(function (button, i) {
      var b = el("button", { type: "button", "class": "k-option" + (button.primary ? " k-primary" : ""),
                             "data-say": "ui." + button.key });
      b.appendChild(numberBadge(i));
      b.appendChild(el("span", { "class": "k-label" }, t(button.key)));
      b.addEventListener("click", function () { closeDialog(button.value); });
      actions.appendChild(b);
    });
    ["k-app"].forEach(function (id) { $(id).setAttribute("inert", ""); $(id).setAttribute("aria-hidden", "true"); });
    $("k-dialog-backdrop").hidden = false;
    quietFocus = true;
    actions.querySelector("button").focus();
    quietFocus = false;
    speak((spec.say || []).concat(sayKeys(actions.querySelector("button"))));
    restartIdle();
  }
  function closeDialog(value, silent) {
    if (!dialogState) return;
    var done = dialogState.done, returnFocus = dialogState.returnFocus;
    dialogState = null;
    $("k-dialog-backdrop").hidden = true;
    $("k-app").removeAttribute("inert");
    $("k-app").removeAttribute("aria-hidden");
    if (silent) return;
    if (returnFocus && document.body.contains(returnFocus) && !returnFocus.closest("[hidden]")) {
      quietFocus = true; returnFocus.focus(); quietFocus = false;
    }
    if (done) done(value);
    restartIdle();
  }

  // --------------------------------------------------------------- idle

  function restartIdle(seconds) {
    var base = cfg.idle_seconds;
    if (state.screen === "ticket" && $("s-ticket").classList.contains("k-fallback-on")) {
      base = Math.max(base, cfg.fallback_idle_seconds);
    }
    idle.seconds = Math.max(base, seconds || 0);
    idle.deadline = Date.now() + idle.seconds * 1000;
    idle.warned = false;
    $("idle-warning").hidden = true;
    tick();
  }
  function tick() {
    var onStart = state.screen === "start" && !dialogState;
    $("k-idle").hidden = onStart;
    if (onStart) { $("idle-warning").hidden = true; return; }
    var left = Math.max(0, Math.ceil((idle.deadline - Date.now()) / 1000));
    setText("idle-text", t("idle_in", { n: left }));
    var warn = Math.min(cfg.warn_seconds, Math.floor(idle.seconds / 2));
    if (left <= warn && !idle.warned) {
      idle.warned = true;
      setText("idle-warning", t("idle_warning") + " " + t("idle_in", { n: left }));
      $("idle-warning").hidden = false;
      speak(["ui.say_idle"]);
    } else if (idle.warned) {
      setText("idle-warning", t("idle_warning") + " " + t("idle_in", { n: left }));
    }
    if (left <= 0 && !state.resetting) reset();
  }
  function clockTick() {
    var now = new Date();
    setText("k-date", Antre.formatDate(now, lang()));
    setText("k-time", clock(now));
  }

  // -------------------------------------------------------------- prefs

  function setPref(name, on) {
    prefs[name] = on;
    var button = document.querySelector("[data-pref='" + name + "']");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
    if (name === "hc") body.classList.toggle("hc", on);
    if (name === "large") body.classList.toggle("large-text", on);
    if (name === "reach") body.classList.toggle("low-reach", on);
    if (name === "scan") {
      body.classList.toggle("scanning", on);
      clearInterval(timers.scan);
      timers.scan = on ? setInterval(scanStep, cfg.scan_seconds * 1000) : null;
    }
    if (name === "speech") {
      if (on) speak(["ui.speech_on"]);
      else voice.pause();
    }
  }
  function togglePref(name) { setPref(name, !prefs[name]); restartIdle(); }

  /** Switch scanning: the focus steps through every control of the screen, then the tools. */
  function scanStep() {
    var list = options();
    if (!dialogState) {
      list = list.concat(Array.prototype.slice.call(document.querySelectorAll(".k-footer button:not([hidden])"))
        .filter(function (b) { return !b.closest("[hidden]"); }));
      if (state.screen === "booking") {
        list = list.concat(Array.prototype.slice.call(document.querySelectorAll("#booking-keys button, #booking-submit")));
      }
    }
    if (!list.length) return;
    var i = list.indexOf(document.activeElement);
    list[(i + 1) % list.length].focus();
  }

  // ----------------------------------------------------------- keyboard

  function moveFocus(delta, vertical) {
    var list = options();
    if (!list.length) return;
    var i = list.indexOf(document.activeElement);
    if (i < 0) { list[0].focus(); return; }
    if (vertical) {
      var here = list[i].getBoundingClientRect();
      var best = null, bestScore = Infinity;
      list.forEach(function (b, j) {
        if (j === i) return;
        var r = b.getBoundingClientRect();
        var dy = (r.top - here.top) * delta;
        if (dy <= 4) return;
        var score = dy * 4 + Math.abs(r.left - here.left);
        if (score < bestScore) { best = b; bestScore = score; }
      });
      if (best) best.focus();
      return;
    }
    list[(i + delta + list.length) % list.length].focus();
  }

  function pickOption(n) {
    var list = options();
    if (n >= 1 && n <= list.length && n <= 9) list[n - 1].click();
  }

  function inTextField(target) { return target && target.tagName === "INPUT"; }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    restartIdle();
    var key = event.key;
    var target = event.target;
    var scanning = keyBuffer.text && Date.now() - keyBuffer.last < SCAN_GAP_MS;
    if (state.screen === "start" && !dialogState && !inTextField(target) && key.length === 1 &&
        (/[0-9A-Za-z]/.test(key) || scanning)) {
      scannerKey(key);  // a scanner may type a whole URL: "/" or ":" inside it are not shortcuts
      event.preventDefault();
      return;
    }
    if (key === "Enter" && state.screen === "start" && !dialogState && scannedCode()) {
      var code = scannedCode();
      keyBuffer.text = "";
      clearTimeout(timers.digit);
      event.preventDefault();
      checkIn(code);
      return;
    }
    if (inTextField(target)) {
      if (key === "Escape") { event.preventDefault(); back(); }
      return;
    }
    if (state.screen === "booking" && !dialogState && key.length === 1 && /[0-9A-Za-z]/.test(key)) {
      event.preventDefault();
      typeKey(key.toUpperCase());
      return;
    }
    if (key === "*") { event.preventDefault(); togglePref("speech"); return; }
    if (key === "/") { event.preventDefault(); setLanguage(lang() === "id" ? "en" : "id"); return; }
    if (key === "+") { event.preventDefault(); restartIdle(); return; }
    if (key === "0" || key === "Escape" || key === "Backspace") {
      event.preventDefault();
      if (state.screen === "booking" && !dialogState && key === "Backspace") return;
      back();
      return;
    }
    if (/^[1-9]$/.test(key)) { event.preventDefault(); pickOption(Number(key)); return; }
    if (key === "ArrowRight") { event.preventDefault(); moveFocus(1, false); }
    else if (key === "ArrowLeft") { event.preventDefault(); moveFocus(-1, false); }
    else if (key === "ArrowDown") { event.preventDefault(); moveFocus(1, true); }
    else if (key === "ArrowUp") { event.preventDefault(); moveFocus(-1, true); }
    else if (key === "Tab" && dialogState) {
      // keep the focus inside the dialog
      var list = options(), i = list.indexOf(document.activeElement);
      event.preventDefault();
      list[(i + (event.shiftKey ? -1 : 1) + list.length) % list.length].focus();
    }
  });

  /** The booking code in what was typed: the last run of 4+ letters and digits (a QR may hold a URL). */
  function scannedCode() {
    var runs = keyBuffer.text.toUpperCase().match(/[A-Z0-9]{4,32}/g);
    return runs ? runs[runs.length - 1] : "";
  }

  /** Start screen: fast keys are a barcode scanner typing a booking code; a lone digit is a menu choice. */
  function scannerKey(ch) {
    var now = Date.now();
    if (now - keyBuffer.last > 1000) keyBuffer.text = "";
    keyBuffer.text = (keyBuffer.text + ch).slice(-200);
    keyBuffer.last = now;
    clearTimeout(timers.digit);
    if (keyBuffer.text.length === 1 && /[1-9]/.test(ch)) {
      timers.digit = setTimeout(function () {
        if (keyBuffer.text.length === 1 && Date.now() - keyBuffer.last >= DIGIT_WAIT_MS - 10) {
          var n = Number(keyBuffer.text);
          keyBuffer.text = "";
          pickOption(n);
        }
      }, DIGIT_WAIT_MS);
    }
  }

  // ----------------------------------------------------------- wiring

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-action], [data-pref], [data-reason]") : null;
    restartIdle();
    if (!target || state.busy) return;
    if (target.hasAttribute("data-pref")) { togglePref(target.getAttribute("data-pref")); return; }
    if (target.hasAttribute("data-reason")) { choosePriority(target.getAttribute("data-reason") || null); return; }
    switch (target.getAttribute("data-action")) {
      case "take": show("tenants"); break;
      case "booking": show("booking", { focus: "#booking-code" }); break;
      case "back": back(); break;
      case "home": reset(); break;
      case "done": reset(); break;
      case "extend": restartIdle(); break;
      case "lang": setLanguage(lang() === "id" ? "en" : "id"); break;
      default: break;
    }
  });
  ["pointerdown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { restartIdle(); }, { passive: true });
  });
  $("booking-form").addEventListener("submit", function (event) {
    event.preventDefault();
    checkIn($("booking-code").value);
  });
  $("booking-code").addEventListener("input", function () {
    var input = $("booking-code");
    var clean = input.value.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, 32);
    if (clean !== input.value) input.value = clean;
    setText("booking-error", "");
  });

  // ------------------------------------------------------------ socket

  Antre.connect({}, {
    "queue:state": function (snapshot) {
      if (snapshot && snapshot.services) { setServices(snapshot.services); }
      if (snapshot && snapshot.tenants) { setTenants(snapshot.tenants); }
      rerender();
    },
    "queue:changed": function (change) {
      var s = change && services[change.service_id];
      if (!s) return;
      s.waiting = change.waiting;
      s.eta_minutes = change.eta_minutes;
      rerender();
    },
    "config:changed": function (change) {
      var settings = (change && change.settings) || {};
      if (settings.mpp_name) { cfg.mpp_name = settings.mpp_name; setText("k-mpp", settings.mpp_name); }
      if (typeof settings.kiosk_idle_seconds === "number") cfg.idle_seconds = settings.kiosk_idle_seconds;
    },
    "print:result": printUpdate,
    "device:revoked": function () { window.location.reload(); }  // shows the "not paired" page
  }, function (online) {
    $("k-offline").hidden = online;
    if (online) refreshServices();
  });

  function loadLastIssue() {
    try { return JSON.parse(window.localStorage.getItem("antre.kiosk.last") || "null"); } catch (e) { return null; }
  }
  function saveLastIssue() {
    try { window.localStorage.setItem("antre.kiosk.last", JSON.stringify(lastIssue)); } catch (e) { /* private mode */ }
  }

  buildKeyboard();
  applyTexts();
  clockTick();
  setInterval(clockTick, 5000);
  setInterval(tick, 1000);
  setInterval(refreshServices, 60000);
  show("start");
  window.AntreKiosk = { state: state, prefs: prefs, reset: reset, show: show };
})();
