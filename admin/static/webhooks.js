/* Webhooks: list (GET /api/v1/webhooks) and register (POST /api/v1/webhooks). */
(function () {
  "use strict";
  Antre.i18n(JSON.parse(document.getElementById("wh-messages").textContent));
  var t = Antre.t, el = Antre.el;
  var tbody = document.querySelector("#wh-table tbody");
  var status = document.getElementById("wh-status");
  var errorBox = document.getElementById("wh-error");
  var form = document.getElementById("wh-form");

  function row(w) {
    var tr = el("tr");
    tr.appendChild(el("td", { "class": "num" }, w.id));
    tr.appendChild(el("th", { scope: "row", "class": "url" }, w.url));
    tr.appendChild(el("td", null, w.active ? t("Aktif") : t("Nonaktif")));
    var cell = el("td");
    cell.appendChild(el("div", null, t("Terkirim sampai peristiwa #%(n)s", { n: w.delivered_through })));
    cell.appendChild(el("div", null, t("Antrian kirim: %(n)s", { n: w.backlog })));
    if (w.last_success_at) cell.appendChild(el("div", { "class": "muted" }, t("Terakhir berhasil: %(t)s", { t: w.last_success_at })));
    if (w.last_error) cell.appendChild(el("div", { "class": "field-error" }, t("Galat terakhir: %(e)s", { e: w.last_error })));
    tr.appendChild(cell);
    return tr;
  }

  function load() {
    Antre.setText(status, t("Memuat…"));
    return Antre.api("/api/v1/webhooks").then(function (list) {
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      if (!list.length) {
        var tr = el("tr"); tr.appendChild(el("td", { colspan: "4" }, t("Belum ada webhook."))); tbody.appendChild(tr);
      }
      list.forEach(function (w) { tbody.appendChild(row(w)); });
      Antre.setText(status, "");
    }, function (err) { Antre.setText(status, t("Tidak dapat memuat daftar webhook.") + " " + err.message); });
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
      Antre.setText(status, t("Webhook ditambahkan."));
      return load().then(function () { Antre.setText(status, t("Webhook ditambahkan.")); });
    }, function (err) {
      Antre.setText(errorBox, err.message);
      errorBox.hidden = false;
      var field = err.code === "invalid_secret" ? "wh-secret" : "wh-url";
      document.getElementById(field).setAttribute("aria-invalid", "true");
      errorBox.focus();
    });
  });
  load();
})();
