/* The SKM survey tablet at a counter: offers the survey of the ticket just served there.
   One question at a time, four large answers: tap, or keys 1-4, or Tab + Enter.
   Text goes into the page with textContent only. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("sv-data").textContent);
  var N = data.questions.length;
  Antre.i18n(data.messages);
  var lang = Antre.setLang(data.lang);
  var t = Antre.t;

  var screen = "idle";
  var ticket = null;       // {ticket_id, number, service}
  var answers = [];
  var index = 0;
  var review = false;      // answering from the review screen: go back there
  var idleTimer = null;
  var thanksTimer = null;
  var sending = false;
  var skipped = {};        // tickets this tablet will not offer again

  function $(id) { return document.getElementById(id); }

  // ----------------------------------------------------------------- screens

  function show(name, focusId) {
    screen = name;
    ["idle", "intro", "question", "finish", "thanks"].forEach(function (s) {
      $("sv-" + s).hidden = s !== name;
    });
    document.body.setAttribute("data-screen", name);
    if (focusId) $(focusId).focus();
    armIdle();
  }

  function armIdle() {
    if (idleTimer) window.clearTimeout(idleTimer);
    idleTimer = null;
    if (screen === "intro" || screen === "question" || screen === "finish") {
      idleTimer = window.setTimeout(function () {
        if (ticket) skipped[ticket.ticket_id] = true;  // the visitor left: never offer it to the next one
        toIdle();
      }, data.idle_seconds * 1000);
    }
  }

  function toIdle() {
    ticket = null;
    answers = [];
    show("idle");
  }

  function serviceName(s) {
    if (!s) return "";
    return lang === "en" && s.name_en ? s.name_en : s.name;
  }

  function offer(next) {
    ticket = next;
    answers = [];
    for (var i = 0; i < N; i++) answers.push(null);
    index = 0;
    review = false;
    $("sv-comment").value = "";
    Antre.setText($("sv-error"), "");
    drawIntro();
    show("intro");
    Antre.setText($("sv-live"), t("Survei Kepuasan Masyarakat") + ". " + $("sv-ticket").textContent);
  }

  function drawIntro() {
    if (!ticket) return;
    Antre.setText($("sv-ticket"), t("Nomor %(number)s · %(service)s",
                                    {number: ticket.number, service: serviceName(ticket.service)}));
  }

  function q(i) { return data.questions[i][lang]; }

  function drawQuestion() {
    var item = q(index);
    Antre.setText($("sv-progress"), t("Pertanyaan %(n)s dari %(total)s", {n: index + 1, total: N}));
    Antre.setText($("sv-element"), data.questions[index].code + " · " + item.name);
    Antre.setText($("sv-q-text"), item.question);
    var box = $("sv-answers");
    while (box.firstChild) box.removeChild(box.firstChild);
    item.answers.forEach(function (text, n) {
      var score = n + 1;
      var button = Antre.el("button", {"type": "button", "class": "sv-answer sv-score-" + score,
                                       "aria-pressed": answers[index] === score ? "true" : "false",
                                       "data-score": String(score)});
      button.appendChild(Antre.el("span", {"class": "sv-key", "aria-hidden": "true"}, score));
      button.appendChild(Antre.el("span", {"class": "sv-answer-text"}, text));
      button.addEventListener("click", function () { choose(score); });
      box.appendChild(button);
    });
  }

  function goQuestion(i) {
    index = i;
    drawQuestion();
    show("question", "sv-q-text");
  }

  function choose(score) {
    if (screen !== "question") return;
    answers[index] = score;
    Antre.setText($("sv-live"), t("Jawaban terpilih: %(answer)s", {answer: q(index).answers[score - 1]}));
    if (review || index === N - 1) {
      goFinish();
    } else {
      goQuestion(index + 1);
    }
  }

  function goFinish() {
    review = true;
    var list = $("sv-review");
    while (list.firstChild) list.removeChild(list.firstChild);
    data.questions.forEach(function (question, i) {
      var item = question[lang];
      var li = Antre.el("li");
      li.appendChild(Antre.el("span", {"class": "sv-review-name"}, item.name));
      var answer = answers[i] ? item.answers[answers[i] - 1] : t("Belum dijawab");
      li.appendChild(Antre.el("span", {"class": "sv-review-answer sv-score-" + (answers[i] || 0)}, answer));
      var change = Antre.el("button", {"type": "button", "class": "secondary sv-change"}, t("Ubah"));
      change.appendChild(Antre.el("span", {"class": "visually-hidden"}, ": " + item.name));
      change.addEventListener("click", function () { goQuestion(i); });
      li.appendChild(change);
      list.appendChild(li);
    });
    show("finish", "sv-finish-title");
  }

  function thanks(already) {
    if (ticket) skipped[ticket.ticket_id] = true;
    Antre.setText($("sv-thanks-text"), already ? t("Survei untuk nomor ini sudah diisi. Terima kasih!")
                                              : t("Penilaian Anda membantu kami meningkatkan pelayanan."));
    show("thanks", "sv-thanks-title");
    if (thanksTimer) window.clearTimeout(thanksTimer);
    thanksTimer = window.setTimeout(function () { toIdle(); refresh(); }, data.thanks_seconds * 1000);
  }

  function send() {
    if (sending || !ticket) return;
    var missing = answers.indexOf(null);
    if (missing >= 0) { goQuestion(missing); return; }
    sending = true;
    var button = $("sv-send");
    button.disabled = true;
    Antre.setText(button, t("Mengirim…"));
    Antre.setText($("sv-error"), "");
    Antre.api("/api/v1/tickets/" + ticket.ticket_id + "/survey", {
      method: "POST", body: {scores: answers.slice(), comment: $("sv-comment").value.trim()}
    }).then(function () {
      thanks(false);
    }, function (err) {
      if (err && err.code === "survey_exists") { thanks(true); return; }
      Antre.setText($("sv-error"), t("Survei belum dapat dikirim. Silakan coba lagi."));
    }).then(function () {
      sending = false;
      button.disabled = false;
      Antre.setText(button, t("Kirim"));
    });
  }

  // ------------------------------------------------------------ live updates

  function refresh() {
    return Antre.api(data.pending_url).then(function (body) {
      var next = body && body.ticket;
      if (next && skipped[next.ticket_id]) next = null;
      if (screen === "idle" && next) offer(next);
      else if (screen === "intro" && (!next || next.ticket_id !== ticket.ticket_id)) {
        if (next) offer(next); else toIdle();
      }
    }, function () { /* offline: the next poll or event tries again */ });
  }

  function translateStatic() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      Antre.setText(node, t(node.getAttribute("data-i18n")));
    });
    var button = $("sv-lang");
    Antre.setText(button, lang === "en" ? "Bahasa Indonesia" : "English");
    button.setAttribute("lang", lang === "en" ? "id" : "en");
    drawIntro();
    if (screen === "question") drawQuestion();
    if (screen === "finish") goFinish();
    drawConnection();
  }

  var online = false;
  function drawConnection() {
    var node = $("sv-conn");
    node.setAttribute("data-state", online ? "online" : "offline");
    Antre.setText(node, online ? t("Terhubung") : t("Terputus — mencoba lagi…"));
  }

  // ------------------------------------------------------------------ wiring

  $("sv-start").addEventListener("click", function () { goQuestion(0); });
  $("sv-back").addEventListener("click", function () {
    if (review) { goFinish(); return; }
    if (index === 0) { drawIntro(); show("intro", "sv-intro-title"); } else goQuestion(index - 1);
  });
  $("sv-back2").addEventListener("click", function () { review = false; goQuestion(N - 1); });
  $("sv-send").addEventListener("click", send);
  function skip() { if (ticket) skipped[ticket.ticket_id] = true; toIdle(); }
  $("sv-skip").addEventListener("click", skip);
  $("sv-skip2").addEventListener("click", skip);
  $("sv-lang").addEventListener("click", function () {
    lang = Antre.setLang(lang === "en" ? "id" : "en");
    translateStatic();
  });
  document.addEventListener("keydown", function (event) {
    armIdle();
    if (screen !== "question" || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT")) return;
    var score = "1234".indexOf(event.key) + 1;
    if (score > 0) { event.preventDefault(); choose(score); }
  });
  ["pointerdown", "input"].forEach(function (name) { document.addEventListener(name, armIdle, {passive: true}); });

  if (lang !== "id") translateStatic();
  drawConnection();
  refresh();
  window.setInterval(refresh, data.poll_seconds * 1000);
  var socket = Antre.connect({}, {
    "ticket:event": function (event) { if (event && event.type === "ticket.served") refresh(); },
    "survey:done": function (body) {
      if (body && ticket && body.ticket_id === ticket.ticket_id && screen === "intro") toIdle();
    }
  }, function (isOnline) { online = isOnline; drawConnection(); });
  socket.on("connect", function () { socket.emit("subscribe", {counter_id: data.counter.id}); refresh(); });
  window.AntreSurveyTablet = { refresh: refresh, state: function () { return {screen: screen, ticket: ticket,
                                                                              answers: answers.slice()}; } };
})();
