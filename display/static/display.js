/* The waiting-room display (/display, /display?zone=NAME).

   Draws itself from `queue:state` (sent on every (re)connect) and keeps up
   with `ticket:called`, `counter:changed` and `queue:changed`.  Other event
   names are ignored.

   Calls are identified by their event id.  A call already shown is never
   shown or announced again: a reconnect (lost network, restarted server)
   brings a fresh `queue:state` whose `recent_calls` fill the history; calls
   made while the display was away and less than CATCH_UP_S old are
   announced once, in order; older ones only enter the history.

   Text always goes into the page with textContent (Antre.el / Antre.setText).

   Instrumentation for tests: window.__antreCalls lists the calls shown
   ({event_id, number, counter, recall, shown, source}); window.__antrePlayed
   (player.js) lists what was played. */
(function () {
  "use strict";

  var HISTORY_SIZE = 10;
  var NEW_CALL_MS = 10000;        // how long the newest call stays highlighted
  var CATCH_UP_S = 90;            // a missed call younger than this is still announced
  var WAITING_PAGE_MS = 8000;     // waiting-count pages rotate this often
  var TICKER_STEP_MS = 9000;      // reduced motion: running-text sentences switch this often
  var IMAGE_MS = 10000;           // media: how long an image stays
  var CONFIG_REFRESH_MS = 60000;

  var cfg = JSON.parse(document.getElementById("display-config").textContent);
  Antre.i18n(cfg.messages);
  Antre.setLang(cfg.lang);
  var t = Antre.t;
  var el = Antre.el;
  var $ = function (id) { return document.getElementById(id); };
  var reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };

  var state = {
    counters: [],          // [{id, name, zone, status, current_number, current_status}]
    services: [],          // [{id, code, name, waiting, ...}]
    history: [],           // newest first: {event_id, number, recall, counter: {id, name}, service, at}
    seen: {},              // event ids already shown
    highWater: null,       // highest event id known; null until the first queue:state
    offsetMs: 0,           // server clock minus this display's clock
    newTimer: null,
    calledTimers: {},
    waitingPage: 0,
    speaking: null,
    audio: { audio_output: "browser", repeats: 1, chime_url: "/display/audio/chime.wav" }
  };
  window.__antreCalls = [];

  var player = new window.AntrePlayer({
    repeats: 1,
    chimeUrl: state.audio.chime_url,
    onBlocked: function (blocked) { $("sound-unlock").hidden = !blocked; },
    onPlaying: function (call) {
      state.speaking = call ? call.event_id : null;
      renderHistory();
    }
  });
  window.__antrePlayer = player;
  $("sound-unlock").addEventListener("click", function () { player.unlock(); });

  // ------------------------------------------------------------------ clock

  var dateFormat = null;
  var timeFormat = null;
  try {
    dateFormat = new Intl.DateTimeFormat(cfg.lang === "en" ? "en-GB" : "id-ID",
      { timeZone: cfg.tz, weekday: "long", day: "numeric", month: "long", year: "numeric" });
    timeFormat = new Intl.DateTimeFormat("en-GB",
      { timeZone: cfg.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  } catch (e) { dateFormat = timeFormat = null; }

  function serverNow() { return new Date(Date.now() + state.offsetMs); }

  var today = null;

  function tick() {
    var now = serverNow();
    var date = dateFormat ? dateFormat.format(now) : Antre.formatDate(now, cfg.lang);
    if (today !== null && date !== today && socket.connected) {
      // Numbering restarts every day: start the day from a fresh snapshot.
      state.newDay = true;
      socket.disconnect();
      socket.connect();
    }
    if (state.highWater !== null) today = date;  // once the server's clock is known
    var time = timeFormat ? timeFormat.format(now).replace(/\./g, ":") : Antre.formatTime(now, true);
    Antre.setText($("date"), date);
    var parts = time.split(":");
    Antre.setText($("clock-hm"), parts[0] + ":" + parts[1]);
    Antre.setText($("clock-s"), parts[2] || "");
    $("clock").setAttribute("datetime", now.toISOString());
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  function timeOf(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    var s = timeFormat ? timeFormat.format(d).replace(/\./g, ":") : Antre.formatTime(d, true);
    return s.slice(0, 5);
  }

  // ------------------------------------------------------------------ connection

  function onStatus(connected) {
    document.body.classList.toggle("offline", !connected);
    $("offline-banner").hidden = connected;
    Antre.setText($("conn-text"), connected ? t("Terhubung") : t("Terputus — mencoba menghubungkan kembali…"));
    if (connected) loadConfig();
  }

  var auth = {};
  if (cfg.zone) auth.zone = cfg.zone;
  var socket = Antre.connect(auth, {
    "queue:state": onState,
    "ticket:called": onCalled,
    "counter:changed": onCounterChanged,
    "queue:changed": onQueueChanged,
    "config:changed": function () { loadConfig(); }
  }, onStatus);
  socket.on("connect", function () {
    // A staff session (checking the screen) is not filtered by the server: ask for the zone.
    if (cfg.zone && cfg.principal_kind === "user") socket.emit("subscribe", { zone: cfg.zone });
  });
  window.__antreSocket = socket;

  function inZone(counterId) {
    if (!cfg.zone) return true;
    for (var i = 0; i < state.counters.length; i++) {
      if (state.counters[i].id === counterId) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ events

  function pruneSeen() {
    // Event ids only grow: an id at or below the high-water mark is never announced from a
    // snapshot again, so only the newest few need remembering (a display runs for weeks).
    var ids = Object.keys(state.seen);
    if (ids.length < 2000 || state.highWater === null) return;
    ids.forEach(function (k) { if (Number(k) < state.highWater - 500) delete state.seen[k]; });
  }

  function onState(s) {
    if (!s || !Array.isArray(s.counters)) return;
    pruneSeen();
    var generated = Date.parse(s.generated_at);
    if (!isNaN(generated)) state.offsetMs = generated - Date.now();
    state.counters = s.counters.filter(function (c) { return !cfg.zone || c.zone === cfg.zone; });
    state.services = Array.isArray(s.services) ? s.services : [];
    if (typeof s.running_text === "string") setTicker(s.running_text);
    var recent = Array.isArray(s.recent_calls) ? s.recent_calls.filter(function (c) {
      return c && c.counter && inZone(c.counter.id);
    }) : [];
    var first = state.highWater === null;
    var missed = [];
    recent.forEach(function (c) {
      if (state.seen[c.event_id]) return;
      var age = (serverNow().getTime() - Date.parse(c.at)) / 1000;
      if (!first && c.event_id > state.highWater && age <= CATCH_UP_S) missed.push(c);
      else state.seen[c.event_id] = true;
    });
    // History: what the server knows, plus anything newer this display already showed
    // (not yesterday's: a new day starts with an empty history).
    if (state.newDay) {
      state.history = [];
      state.newDay = false;
      showNow(null, false);
    }
    var merged = {};
    recent.concat(state.history).forEach(function (c) { if (!merged[c.event_id]) merged[c.event_id] = c; });
    state.history = Object.keys(merged).map(function (k) { return merged[k]; })
      .filter(function (c) { return state.seen[c.event_id]; })
      .sort(function (a, b) { return b.event_id - a.event_id; }).slice(0, HISTORY_SIZE);
    if (typeof s.last_event_id === "number") {
      state.highWater = Math.max(state.highWater || 0, s.last_event_id);
    }
    renderCounters();
    fitWaiting();
    renderHistory();
    if (first && state.history.length) showNow(state.history[0], false);
    if (!state.history.length) showNow(null, false);
    missed.sort(function (a, b) { return a.event_id - b.event_id; }).forEach(catchUp);
  }

  function catchUp(c) {
    state.seen[c.event_id] = true;
    Antre.api("/display/calls/" + c.event_id).then(function (found) {
      announce({
        event_id: c.event_id, number: c.number, recall: c.recall, counter: c.counter, service: c.service,
        at: c.at, announcement: found.announcement
      }, "catch-up");
    }, function () {
      announce({ event_id: c.event_id, number: c.number, recall: c.recall, counter: c.counter,
                 service: c.service, at: c.at, announcement: null }, "catch-up");
    });
  }

  function onCalled(p) {
    if (!p || !p.ticket || !p.counter || typeof p.ticket.number !== "string") return;
    if (!inZone(p.counter.id)) return;
    var id = typeof p.event_id === "number" ? p.event_id : null;
    if (id !== null) {
      if (state.seen[id]) return;
      state.seen[id] = true;
      if (state.highWater !== null) state.highWater = Math.max(state.highWater, id);
    }
    announce({
      event_id: id, number: p.ticket.number, recall: !!p.recall, counter: p.counter, service: p.service,
      at: p.ticket.called_at || serverNow().toISOString(), announcement: p.announcement || null
    }, "live");
  }

  function announce(call, source) {
    state.history.unshift(call);
    state.history.sort(function (a, b) { return (b.event_id || 0) - (a.event_id || 0); });
    state.history = state.history.slice(0, HISTORY_SIZE);
    var counter = findCounter(call.counter.id);
    if (counter) {
      counter.current_number = call.number;
      counter.current_status = "called";
    }
    markCalled(call.counter.id);
    showNow(call, true);
    renderHistory();
    renderCounters();
    window.__antreCalls.push({ event_id: call.event_id, number: call.number, counter: call.counter.name,
                               recall: call.recall, shown: performance.now(), shown_at: Date.now(),
                               source: source });
    var a = call.announcement || {};
    player.enqueue({ event_id: call.event_id, number: call.number, text: a.text || "",
                     url: a.audio_url || null, repeats: state.audio.repeats });
  }

  function onCounterChanged(p) {
    if (!p || !p.counter) return;
    var c = findCounter(p.counter.id);
    if (!c) return;
    c.status = p.counter.status;
    c.current_number = p.counter.current_number;
    c.current_status = p.counter.current_status;
    renderCounters();
  }

  function onQueueChanged(p) {
    if (!p || typeof p.service_id !== "number") return;
    for (var i = 0; i < state.services.length; i++) {
      if (state.services[i].id === p.service_id) {
        state.services[i].waiting = p.waiting;
        state.services[i].eta_minutes = p.eta_minutes;
        renderWaiting();
        return;
      }
    }
  }

  function findCounter(id) {
    for (var i = 0; i < state.counters.length; i++) if (state.counters[i].id === id) return state.counters[i];
    return null;
  }

  // ------------------------------------------------------------------ drawing

  function showNow(call, isNew) {
    var card = $("now");
    if (!call) {
      Antre.setText($("now-number"), "—");
      Antre.setText($("now-counter"), "");
      Antre.setText($("now-service"), t("Belum ada panggilan"));
      card.classList.add("empty");
      return;
    }
    card.classList.remove("empty");
    Antre.setText($("now-number"), call.number);
    card.style.setProperty("--len", String(Math.max(3, call.number.length)));
    card.style.setProperty("--clen", String(Math.max(7, call.counter.name.length)));
    Antre.setText($("now-counter"), call.counter.name);
    Antre.setText($("now-service"), serviceName(call.service));
    $("now-badge").hidden = !isNew;
    Antre.setText($("now-badge"), call.recall ? t("Panggilan ulang") : t("Panggilan baru"));
    if (!isNew) return;
    // Restart the flash: remove the class, force a style flush, add it again.
    card.classList.remove("is-new");
    void card.offsetWidth;
    card.classList.add("is-new");
    card.dataset.eventId = call.event_id === null ? "" : String(call.event_id);
    Antre.setText($("live"), t("Nomor antrian") + " " + call.number + ", " + t("Silakan menuju") + " " +
                  call.counter.name);
    if (state.newTimer) clearTimeout(state.newTimer);
    state.newTimer = setTimeout(function () {
      card.classList.remove("is-new");
      $("now-badge").hidden = true;
    }, NEW_CALL_MS);
  }

  function serviceName(service) {
    if (!service) return "";
    if (cfg.lang === "en") {
      for (var i = 0; i < state.services.length; i++) {
        if (state.services[i].id === service.id && state.services[i].name_en) return state.services[i].name_en;
      }
    }
    return service.name || "";
  }

  function markCalled(counterId) {
    if (state.calledTimers[counterId]) clearTimeout(state.calledTimers[counterId]);
    state.calledTimers[counterId] = setTimeout(function () {
      delete state.calledTimers[counterId];
      renderCounters();
    }, NEW_CALL_MS);
  }

  function statusText(c) {
    if (c.status === "paused") return t("Istirahat");
    if (c.current_status === "called") return t("Dipanggil");
    if (c.current_status === "serving") return t("Dilayani");
    return "";
  }

  function renderCounters() {
    var grid = $("counter-grid");
    var n = state.counters.length;
    var rows = n <= 7 ? 1 : n <= 16 ? 2 : n <= 30 ? 3 : 4;
    grid.style.setProperty("--cols", String(Math.max(1, Math.ceil(n / rows))));
    document.body.dataset.counterRows = String(rows);
    var items = state.counters.map(function (c) {
      var li = el("li", { "class": "tile" + (state.calledTimers[c.id] ? " called" : "") +
                          (c.status === "paused" ? " paused" : ""), "data-counter-id": String(c.id) });
      li.appendChild(el("span", { "class": "tile-name" }, c.name));
      li.appendChild(el("span", { "class": "tile-number" }, c.current_number || "—"));
      var status = statusText(c);
      li.appendChild(el("span", { "class": "tile-status" }, status || "\u00a0"));
      return li;
    });
    grid.replaceChildren.apply(grid, items);
  }

  function renderHistory() {
    var list = $("history-list");
    var items = state.history.map(function (c, i) {
      var li = el("li", { "class": "call" + (i === 0 ? " latest" : "") + (c.recall ? " recall" : "") +
                          (state.speaking !== null && c.event_id === state.speaking ? " speaking" : "") });
      li.appendChild(el("span", { "class": "call-number" }, c.number));
      li.appendChild(el("span", { "class": "call-arrow", "aria-hidden": "true" }, "→"));
      li.appendChild(el("span", { "class": "call-counter" }, c.counter.name));
      li.appendChild(el("span", { "class": "call-time" }, timeOf(c.at)));
      return li;
    });
    if (!items.length) items = [el("li", { "class": "call empty" }, t("Belum ada panggilan"))];
    list.replaceChildren.apply(list, items);
  }

  var perPage = 8;  // adjusted to what fits, see fitWaiting

  function renderWaiting() {
    var services = state.services;
    var pages = Math.max(1, Math.ceil(services.length / perPage));
    if (state.waitingPage >= pages) state.waitingPage = 0;
    var slice = services.slice(state.waitingPage * perPage, (state.waitingPage + 1) * perPage);
    var rows = slice.map(function (s) {
      var li = el("li", { "class": "svc" + (s.waiting ? "" : " none") });
      li.appendChild(el("span", { "class": "svc-code" }, s.code));
      li.appendChild(el("span", { "class": "svc-name" }, cfg.lang === "en" && s.name_en ? s.name_en : s.name));
      li.appendChild(el("span", { "class": "svc-count", "aria-label": t("Menunggu") + ": " + (s.waiting || 0) },
                        String(s.waiting || 0)));
      return li;
    });
    if (!rows.length) rows = [el("li", { "class": "svc empty" }, t("Tidak ada yang menunggu"))];
    var body = $("waiting-list");
    body.replaceChildren.apply(body, rows);
    Antre.setText($("waiting-page"), pages > 1 ? t("Halaman %(page)s dari %(pages)s",
                                                    { page: state.waitingPage + 1, pages: pages }) : "");
  }

  /** As many rows per page as fit the panel (the panel's size depends on the screen and the media). */
  function fitWaiting() {
    var box = $("waiting");
    var body = $("waiting-list");
    perPage = 40;
    renderWaiting();
    var limit = box.getBoundingClientRect().bottom;
    var rows = body.children;
    var fit = 0;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getBoundingClientRect().bottom <= limit + 1) fit = i + 1;
    }
    perPage = Math.max(2, fit);
    renderWaiting();
  }

  setInterval(function () {
    state.waitingPage += 1;
    renderWaiting();
  }, WAITING_PAGE_MS);

  // ------------------------------------------------------------------ running text

  var tickerText = null;
  var tickerTimer = null;
  var tickerIndex = 0;

  /** "A. B • C" -> ["A.", "B", "C"] (no look-behind: old TV browsers lack it). */
  function sentences(text) {
    var out = [];
    var current = "";
    for (var i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (ch === "•") { out.push(current); current = ""; continue; }
      current += ch;
      if ((ch === "." || ch === "!" || ch === "?") && /\s/.test(text.charAt(i + 1) || " ")) {
        out.push(current); current = "";
      }
    }
    out.push(current);
    return out.map(function (x) { return x.trim(); }).filter(Boolean);
  }

  function setTicker(text) {
    if (text === tickerText) return;
    tickerText = text;
    var box = $("ticker");
    box.hidden = !text;
    var track = $("ticker-track");
    track.replaceChildren();
    if (!text) return;
    if (reducedMotion.matches) {
      // No motion: one sentence at a time, switching without movement.
      var parts = sentences(text);
      tickerIndex = 0;
      var show = function () {
        Antre.setText(track, parts[tickerIndex % parts.length]);
        tickerIndex += 1;
      };
      show();
      if (tickerTimer) clearInterval(tickerTimer);
      tickerTimer = parts.length > 1 ? setInterval(show, TICKER_STEP_MS) : null;
      return;
    }
    // Two copies side by side scroll by one copy's width: a seamless loop at a steady reading speed.
    track.appendChild(el("span", { "class": "ticker-copy" }, text));
    track.appendChild(el("span", { "class": "ticker-copy", "aria-hidden": "true" }, text));
    requestAnimationFrame(function () {
      var width = track.firstChild.getBoundingClientRect().width;
      var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
      var pxPerSecond = rem * 6;  // about 6 characters a second
      track.style.setProperty("--ticker-duration", Math.max(10, width / pxPerSecond).toFixed(1) + "s");
      track.classList.add("running");
    });
  }

  // ------------------------------------------------------------------ media

  var media = { list: [], index: 0, key: "", timer: null };

  function setMedia(list) {
    // Moving pictures start by themselves: with reduced motion only still images are shown.
    if (reducedMotion.matches) list = (list || []).filter(function (m) { return m.kind === "image"; });
    var key = JSON.stringify(list || []);
    if (key === media.key) return;
    media.key = key;
    media.list = list || [];
    media.index = 0;
    document.body.classList.toggle("has-media", media.list.length > 0);
    $("media").hidden = media.list.length === 0;
    fitWaiting();
    showMedia();
  }

  function showMedia() {
    var box = $("media");
    if (media.timer) { clearTimeout(media.timer); media.timer = null; }
    if (!media.list.length) { box.replaceChildren(); return; }
    var item = media.list[media.index % media.list.length];
    media.index += 1;
    var next = function () { showMedia(); };
    var node;
    if (item.kind === "video") {
      node = el("video", { src: item.url, muted: "", playsinline: "", autoplay: "", "aria-hidden": "true" });
      node.muted = true;  // videos are silent: the hall hears only the calls
      node.loop = media.list.length === 1;
      node.addEventListener("ended", next);
      node.addEventListener("error", function () { media.timer = setTimeout(next, 2000); });
    } else {
      node = el("img", { src: item.url, alt: "" });
      if (media.list.length > 1) media.timer = setTimeout(next, IMAGE_MS);
    }
    box.replaceChildren(node);
  }

  // ------------------------------------------------------------------ settings

  function loadConfig() {
    Antre.api("/display/config").then(function (c) {
      state.audio = c;
      player.enabled = c.audio_output !== "server";
      player.repeats = c.repeats || 1;
      player.chimeUrl = c.chime_url || player.chimeUrl;
      document.body.classList.toggle("server-audio", c.audio_output === "server");
      $("server-audio-note").hidden = c.audio_output !== "server";
      setTicker(c.running_text || "");
      setMedia(c.media || []);
    }, function () { /* keep the last settings; retried */ });
  }
  setInterval(loadConfig, CONFIG_REFRESH_MS);

  if (reducedMotion.addEventListener) {
    reducedMotion.addEventListener("change", function () {
      var text = tickerText;
      tickerText = null;
      setTicker(text || "");
    });
  }

  window.addEventListener("resize", function () { fitWaiting(); });
  tick();
  renderHistory();
  renderWaiting();
  showNow(null, false);
})();
