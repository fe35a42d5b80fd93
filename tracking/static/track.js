/* The visitor's tracking page: follows one ticket live, rings when it is called.
   No framework (a cheap Android phone), text only through textContent. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tk-data").textContent);
  var token = data.token;
  var state = data.state; // {ticket, counter, service}
  var PREFIX = "antre.track.";
  var POLL_MS = 30000;
  var RINGS = 3;

  function $(id) { return document.getElementById(id); }
  function pref(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(PREFIX + key);
      window.localStorage.setItem(PREFIX + key, value);
    } catch (e) { /* private mode: preferences last for this visit only */ }
    return null;
  }

  Antre.i18n(data.messages);
  var lang = Antre.setLang(pref("lang") || data.lang);
  var t = Antre.t;
  var alertsOn = pref("alerts") === "1";
  // The call this page last rang for: by event id when the call came as an event,
  // by called_at when it was seen in a state (a reconnect, a poll).
  var alerted = {event: parseInt(pref("event:" + token) || "0", 10) || 0, at: pref("called:" + token),
                 byState: false};
  var surveyDone = pref("survey:" + token);
  var connected = false;
  var audio = $("tk-chime");
  var audioPrimed = false;
  var ringsLeft = 0;

  // ------------------------------------------------------------------ drawing

  function counterName() { return state.counter ? state.counter.name : ""; }
  function serviceName() {
    var s = state.service || {};
    return (lang === "en" && s.name_en) ? s.name_en : (s.name || "");
  }

  function statusTexts() {
    var tk = state.ticket;
    switch (tk.status) {
      case "waiting":
        return [t("Menunggu"),
                tk.position === 0 ? t("Anda berikutnya!") : t("Ada %(n)s orang di depan Anda", {n: tk.position}),
                tk.eta_minutes ? t("Perkiraan waktu tunggu: ± %(m)s menit", {m: tk.eta_minutes})
                               : t("Sebentar lagi giliran Anda.")];
      case "called":
        return [t("Nomor Anda dipanggil!"), whereText(), ""];
      case "serving":
        return [t("Sedang dilayani"), t("Anda sedang dilayani di %(counter)s", {counter: counterName()}), ""];
      case "served":
        return [t("Selesai"), t("Terima kasih telah menggunakan layanan kami."), ""];
      case "no_show":
        return [t("Tidak hadir"),
                t("Nomor Anda sudah dipanggil tetapi Anda tidak datang. Silakan hubungi petugas informasi."), ""];
      default:
        return [t("Dibatalkan"),
                t("Nomor antrian ini dibatalkan. Silakan hubungi petugas informasi bila ada pertanyaan."), ""];
    }
  }

  function whereText() {
    // "Loket 12" never breaks between its word and its number
    var name = counterName().replace(/ /g, "\u00a0");
    return name ? t("Silakan menuju %(counter)s", {counter: name}) : t("Silakan menuju loket");
  }

  function render() {
    var tk = state.ticket;
    var status = tk.status;
    var body = document.body;
    body.className = body.className.replace(/\btk-(waiting|called|serving|served|no_show|cancelled)\b/g, "")
      .replace(/\s+/g, " ").trim() + " tk-" + status;
    Antre.setText($("tk-number"), tk.number);
    Antre.setText($("tk-service"), serviceName());
    var texts = statusTexts();
    Antre.setText($("tk-status-title"), texts[0]);
    Antre.setText($("tk-line1"), texts[1]);
    Antre.setText($("tk-line2"), texts[2]);
    $("tk-called").hidden = status !== "called";
    Antre.setText($("tk-called-where"), whereText());
    $("tk-alerts-box").hidden = ["waiting", "called", "serving"].indexOf(status) < 0;
    var survey = $("tk-survey");
    if (survey) {
      survey.hidden = status !== "served";
      $("tk-survey-form").hidden = !!surveyDone;
      $("tk-survey-done").hidden = !surveyDone;
      if (surveyDone) {
        Antre.setText($("tk-survey-done"), surveyDone === "already"
          ? t("Survei untuk nomor ini sudah diisi. Terima kasih!") : t("Terima kasih atas penilaian Anda!"));
      }
    }
    document.title = status === "called"
      ? t("Dipanggil: %(number)s ke %(counter)s", {number: tk.number, counter: counterName()})
      : t("Antrian %(number)s", {number: tk.number});
    drawAlertSwitch();
    drawConnection();
  }

  function drawAlertSwitch() {
    var button = $("tk-alerts");
    button.setAttribute("aria-checked", alertsOn ? "true" : "false");
    Antre.setText($("tk-alerts-state"), alertsOn ? t("Aktif") : t("Mati"));
  }

  function drawConnection() {
    var node = $("tk-conn");
    var final = ["served", "no_show", "cancelled"].indexOf(state.ticket.status) >= 0;
    node.hidden = final;
    node.setAttribute("data-state", connected ? "online" : "offline");
    Antre.setText(node, connected ? t("Terhubung — diperbarui langsung")
                                  : t("Terputus — mencoba menghubungkan kembali…"));
  }

  function translateStatic() {
    var nodes = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < nodes.length; i++) Antre.setText(nodes[i], t(nodes[i].getAttribute("data-i18n")));
    var toggle = $("tk-lang");
    Antre.setText(toggle, lang === "en" ? "Bahasa Indonesia" : "English");
    toggle.setAttribute("lang", lang === "en" ? "id" : "en");
  }

  function say(text) {
    var live = $("tk-live");
    Antre.setText(live, "");
    window.setTimeout(function () { Antre.setText(live, text); }, 50);
  }

  // ------------------------------------------------------------ calling alert

  function primeAudio() {
    if (audioPrimed || !audio) return;
    audioPrimed = true;
    audio.muted = true;
    var p = audio.play();
    var done = function () { audio.pause(); audio.currentTime = 0; audio.muted = false; };
    if (p && p.then) p.then(done, function () { audio.muted = false; audioPrimed = false; });
    else done();
  }

  function playChime() {
    if (!audio) return;
    audio.muted = false;
    audio.currentTime = 0;
    var p = audio.play();
    if (p && p.catch) p.catch(function () { ringsLeft = 0; });
  }

  if (audio) {
    audio.addEventListener("ended", function () {
      if (ringsLeft > 0) { ringsLeft -= 1; window.setTimeout(playChime, 350); }
    });
  }

  function ring() {
    document.body.className += " tk-ringing";
    window.setTimeout(function () {
      document.body.className = document.body.className.replace(/\s*tk-ringing\b/g, "");
    }, 7500);
    if (!alertsOn) return;
    if (navigator.vibrate) {
      try { navigator.vibrate([600, 250, 600, 250, 1000]); } catch (e) { /* not allowed yet */ }
    }
    ringsLeft = RINGS - 1;
    playChime();
  }

  /** Ring once for every call or recall, however it reached us (event, reconnect, poll). */
  function checkCalled(eventId) {
    var tk = state.ticket;
    if (tk.status !== "called" || !tk.called_at) return;
    var recall = !!alerted.at; // this page rang for this ticket before
    if (eventId) {
      if (eventId <= alerted.event) return;
      // the same call already rang when a state showed it: just note its event id
      var seen = alerted.byState && tk.called_at === alerted.at;
      alerted = {event: eventId, at: tk.called_at, byState: false};
      pref("event:" + token, String(eventId));
      pref("called:" + token, tk.called_at);
      if (seen) return;
    } else {
      if (tk.called_at === alerted.at) return;
      alerted = {event: alerted.event, at: tk.called_at, byState: true};
      pref("called:" + token, tk.called_at);
    }
    ring();
    say((recall ? t("Nomor Anda dipanggil ulang!") : t("Nomor Anda dipanggil!")) + " " + whereText());
    var panel = $("tk-called");
    panel.setAttribute("tabindex", "-1");
    try { panel.focus({preventScroll: false}); } catch (e) { panel.focus(); }
    if (panel.scrollIntoView) panel.scrollIntoView();
  }

  // -------------------------------------------------------------------- state

  function apply(next, eventId) {
    if (!next || !next.ticket || next.ticket.id !== state.ticket.id) return;
    var before = state.ticket.status;
    state = {ticket: next.ticket, counter: next.counter || null, service: next.service || state.service};
    render();
    checkCalled(eventId);
    if (before !== state.ticket.status && state.ticket.status !== "called") say(statusTexts().join(" "));
  }

  function refresh() {
    return fetch("/t/" + encodeURIComponent(token) + "/state", {headers: {"Accept": "application/json"},
                                                                credentials: "omit", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (next) { if (next) apply(next); }, function () { /* offline: try again later */ });
  }

  function onTicketEvent(event) {
    if (!event || !event.ticket || event.ticket.id !== state.ticket.id) return;
    var counterChanged = event.ticket.counter_id !== null &&
      (!state.counter || state.counter.id !== event.ticket.counter_id);
    if (event.type === "ticket.transferred" || event.ticket.service_id !== state.ticket.service_id ||
        counterChanged) {
      refresh(); // the service or counter changed: fetch their names
      return;
    }
    var call = event.type === "ticket.called" || event.type === "ticket.recalled";
    apply({ticket: event.ticket, counter: state.counter, service: state.service}, call ? event.id : 0);
  }

  function onCalled(call) {
    if (!call || !call.ticket || call.ticket.id !== state.ticket.id) return;
    var service = state.service;
    if (call.service && (!service || service.id !== call.service.id)) service = call.service;
    apply({ticket: call.ticket, counter: call.counter, service: service}, call.event_id || 0);
  }

  function onPosition(update) {
    if (!update || update.ticket_id !== state.ticket.id || state.ticket.status !== "waiting") return;
    state.ticket.position = update.position;
    state.ticket.eta_minutes = update.eta_minutes;
    render();
  }

  // ------------------------------------------------------------------- survey

  function setupSurvey() {
    var form = $("tk-survey-form");
    if (!form) return;
    form.addEventListener("change", function (e) {
      var fieldset = e.target && e.target.closest ? e.target.closest(".tk-q") : null;
      if (fieldset) fieldset.className = fieldset.className.replace(/\s*is-missing\b/g, "");
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var scores = [];
      var missing = [];
      for (var q = 1; q <= 9; q++) {
        var picked = form.querySelector('input[name="q' + q + '"]:checked');
        var fieldset = $("tk-q" + q);
        if (picked) {
          scores.push(parseInt(picked.value, 10));
          fieldset.className = fieldset.className.replace(/\s*is-missing\b/g, "");
        } else {
          missing.push(q);
          if (!/\bis-missing\b/.test(fieldset.className)) fieldset.className += " is-missing";
        }
      }
      var error = $("tk-survey-error");
      if (missing.length) {
        Antre.setText(error, t("Mohon jawab semua pertanyaan."));
        form.querySelector('input[name="q' + missing[0] + '"]').focus();
        return;
      }
      Antre.setText(error, "");
      var send = $("tk-survey-send");
      send.disabled = true;
      Antre.setText(send, t("Mengirim…"));
      var comment = $("tk-comment").value.trim();
      fetch(data.survey_url, {
        method: "POST", credentials: "omit",
        headers: {"Content-Type": "application/json", "Accept": "application/json", "X-Antre-Track": token},
        body: JSON.stringify({scores: scores, comment: comment})
      }).then(function (r) {
        return r.text().then(function (text) {
          var code = "";
          try { code = ((JSON.parse(text) || {}).error || {}).code || ""; } catch (err) { code = ""; }
          if (r.status === 201 || r.status === 200 || code === "survey_exists") {
            surveyDone = code === "survey_exists" ? "already" : "sent";
            pref("survey:" + token, surveyDone);
            render();
            $("tk-survey-done").focus();
            return;
          }
          throw new Error("HTTP " + r.status + " " + code);
        });
      }).catch(function () {
        Antre.setText(error, t("Survei belum dapat dikirim. Silakan coba lagi."));
      }).then(function () {
        send.disabled = false;
        Antre.setText(send, t("Kirim survei"));
      });
    });
    $("tk-survey-done").setAttribute("tabindex", "-1");
  }

  // ------------------------------------------------------------------- wiring

  $("tk-lang").addEventListener("click", function () {
    lang = Antre.setLang(lang === "en" ? "id" : "en");
    pref("lang", lang);
    translateStatic();
    render();
  });

  $("tk-alerts").addEventListener("click", function () {
    alertsOn = !alertsOn;
    pref("alerts", alertsOn ? "1" : "0");
    drawAlertSwitch();
    if (alertsOn) {
      // This tap is the user gesture phones need before they allow sound and vibration.
      audioPrimed = true;
      ringsLeft = 0;
      playChime();
      if (navigator.vibrate) { try { navigator.vibrate(200); } catch (e) { /* ignore */ } }
    }
  });

  // Any first touch also unlocks the sound for a visitor who turned it on in an earlier visit.
  ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { if (alertsOn) primeAudio(); }, {once: true, passive: true});
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });

  window.setInterval(function () {
    if (["waiting", "called", "serving"].indexOf(state.ticket.status) >= 0) refresh();
  }, POLL_MS);

  setupSurvey();
  if (lang !== data.lang) translateStatic();
  render();
  checkCalled();

  var socket = Antre.connect({track: token}, {
    "queue:state": function (next) { apply(next); },
    "ticket:event": onTicketEvent,
    "ticket:called": onCalled,
    "ticket:position": onPosition
  }, function (online) { connected = online; drawConnection(); });
  window.AntreTrack = { state: function () { return state; }, refresh: refresh, socket: socket };
})();
