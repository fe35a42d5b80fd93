/* Webhooks: list (GET /api/v1/webhooks), register (POST /api/v1/webhooks), and
   pause, resume or remove one (the feed part's /api/v1/webhooks/{id}...). */
(function () {
  "use strict";
  Antre.i18n(JSON.parse(document.getElementById("wh-messages").textContent));
  var t = Antre.t, el = Antre.el;
  var tbody = document.querySelector("#wh-table tbody");
  var status = document.getElementById("wh-status");
  var errorBox = document.getElementById("wh-error");
  var form = document.getElementById("wh-form");
  var STATES = { ok: "Lancar", delivering: "Mengirim", retrying: "Mencoba lagi", paused: "Dijeda" };

  function say(text) { Antre.setText(status, text); }

  function act(w, method, path, done, question) {
    return function () {
      if (question && !window.confirm(question)) return;
      Antre.api("/api/v1/webhooks/" + w.id + path, { method: method })
        .then(function () { return load().then(function () { say(t(done)); }); },
              function (err) { say(err.message); });
    };
  }

  function row(w) {
    var tr = el("tr");
    tr.appendChild(el("td", { "class": "num" }, w.id));
    tr.appendChild(el("th", { scope: "row", "class": "url" }, w.url));
    var state = w.state || (w.active ? "ok" : "paused");
    var stateCell = el("td", null, t(STATES[state] || state));
    if (state === "retrying" && w.attempts) stateCell.appendChild(el("div", { "class": "muted" }, t("Percobaan ke-%(n)s", { n: w.attempts })));
    tr.appendChild(stateCell);
    var cell = el("td");
    cell.appendChild(el("div", null, t("Terkirim sampai peristiwa #%(n)s", { n: w.delivered_through })));
    cell.appendChild(el("div", null, t("Antrian kirim: %(n)s", { n: w.backlog })));
    if (w.last_success_at) cell.appendChild(el("div", { "class": "muted" }, t("Terakhir berhasil: %(t)s", { t: w.last_success_at })));
    if (w.last_error) cell.appendChild(el("div", { "class": "field-error" }, t("Galat terakhir: %(e)s", { e: w.last_error })));
    tr.appendChild(cell);
    var actions = el("td", { "class": "actions-cell" });
    var toggle = w.active
      ? el("button", { type: "button", "class": "secondary small", "aria-label": t("Jeda") + " " + w.url }, t("Jeda"))
      : el("button", { type: "button", "class": "secondary small", "aria-label": t("Lanjutkan") + " " + w.url }, t("Lanjutkan"));
    toggle.addEventListener("click", w.active ? act(w, "POST", "/pause", "Webhook dijeda.")
                                              : act(w, "POST", "/resume", "Webhook dilanjutkan."));
    var remove = el("button", { type: "button", "class": "danger small", "aria-label": t("Hapus") + " " + w.url }, t("Hapus"));
    remove.addEventListener("click", act(w, "DELETE", "", "Webhook dihapus.",
                                         t("Hapus webhook %(url)s? Peristiwa yang belum terkirim ke alamat ini dibuang.", { url: w.url })));
    actions.appendChild(toggle);
    actions.appendChild(document.createTextNode(" "));
    actions.appendChild(remove);
    tr.appendChild(actions);
    return tr;
  }

  function load() {
    return Antre.api("/api/v1/webhooks").then(function (list) {
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      if (!list.length) {
        var tr = el("tr"); tr.appendChild(el("td", { colspan: "5" }, t("Belum ada webhook."))); tbody.appendChild(tr);
      }
      list.forEach(function (w) { tbody.appendChild(row(w)); });
    }, function (err) { say(t("Tidak dapat memuat daftar webhook.") + " " + err.message); });
  }

  document.getElementById("wh-generate").addEventListener("click", function () {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    document.getElementById("wh-secret").value = hex;
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    ["wh-url", "wh-secret"].forEach(function (id) { document.getElementById(id).removeAttribute("aria-invalid"); });
    var body = { url: document.getElementById("wh-url").value.trim(), secret: document.getElementById("wh-secret").value };
    Antre.api("/api/v1/webhooks", { method: "POST", body: body }).then(function () {
      form.reset();
      return load().then(function () { say(t("Webhook ditambahkan.")); });
    }, function (err) {
      Antre.setText(errorBox, err.message);
      errorBox.hidden = false;
      var field = err.code === "invalid_secret" ? "wh-secret" : "wh-url";
      document.getElementById(field).setAttribute("aria-invalid", "true");
      errorBox.focus();
    });
  });
  say(t("Memuat…"));
  load().then(function () { if (status.textContent === t("Memuat…")) say(""); });
  setInterval(load, 15000);  // the backlog and errors move while the page is open
})();
