/* An unpaired device page shows a short pairing code and waits for an admin to
   type it on /admin/devices; then this browser is paired and the page reloads. */
(function () {
  "use strict";
  var box = document.getElementById("pairing");
  if (!box || !window.fetch) return;
  var roles = (box.getAttribute("data-roles") || "").split(",").filter(Boolean);
  var codeEl = document.getElementById("pair-code");
  var stateEl = document.getElementById("pair-state");
  var timer = null;

  function say(key) { stateEl.textContent = stateEl.getAttribute("data-" + key) || ""; }

  function request(path, init) {
    init = init || {};
    init.credentials = "same-origin";
    var headers = { "Accept": "application/json", "X-Antre-Pairing": "1" };
    if (init.body) headers["Content-Type"] = "application/json";
    init.headers = headers;  // (no Object.assign: some TV browsers lack it)
    return fetch(path, init).then(function (r) {
      return r.json().then(function (data) { if (!r.ok) throw data; return data; });
    });
  }

  function newCode() {
    clearTimeout(timer);
    return request("/pair/code", { method: "POST", body: JSON.stringify({ roles: roles }) })
      .then(function (data) {
        codeEl.textContent = data.code.slice(0, 3) + " " + data.code.slice(3);
        codeEl.setAttribute("aria-label", data.code.split("").join(" "));
        box.hidden = false;
        say("waiting");
        timer = setTimeout(poll, (data.poll_seconds || 3) * 1000);
      }, function () {
        say("error");
        box.hidden = false;
        timer = setTimeout(newCode, 30000);
      });
  }

  function poll() {
    request("/pair/status").then(function (data) {
      if (data.state === "paired") { say("paired"); setTimeout(function () { window.location.reload(); }, 500); return; }
      if (data.state === "waiting") { timer = setTimeout(poll, 3000); return; }
      newCode();  // expired or unknown: show a fresh code
    }, function () { timer = setTimeout(poll, 10000); });
  }

  newCode();
})();
