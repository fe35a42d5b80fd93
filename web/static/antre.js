/* Antre shared browser helpers. No framework: pages are small and must run on
   an old PC's browser, a smart TV and a cheap Android phone.
   Text always goes into pages with textContent, never as HTML. */
(function () {
  "use strict";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
  }
  ApiError.prototype = Object.create(Error.prototype);

  /** Call the JSON API with the page's session (and its CSRF token). */
  function api(path, options) {
    options = options || {};
    var headers = { "Accept": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    var init = { method: options.method || "GET", headers: headers, credentials: "same-origin" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.method && options.method !== "GET" && options.body === undefined) {
      headers["Content-Type"] = "application/json";
      init.body = "{}";
    }
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var err = (data && data.error) || {};
          throw new ApiError(response.status, err.code || "http_" + response.status,
                             err.message || response.statusText);
        }
        return data;
      });
    }, function () {
      throw new ApiError(0, "offline", "Tidak terhubung ke server. (No connection to the server.)");
    });
  }

  /** Connect Socket.IO with reconnection; handlers is {event: fn}. Unknown events are ignored. */
  function connect(auth, handlers, onStatus) {
    var socket = io({ auth: auth || {}, transports: ["websocket", "polling"],
                      reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 5000 });
    Object.keys(handlers || {}).forEach(function (name) { socket.on(name, handlers[name]); });
    socket.on("connect", function () { if (onStatus) onStatus(true); });
    socket.on("disconnect", function () { if (onStatus) onStatus(false); });
    socket.on("connect_error", function () { if (onStatus) onStatus(false); });
    // The admin revoked this device's token: reload, which shows the pairing screen.
    socket.on("device:revoked", function () { window.location.reload(); });
    return socket;
  }

  /** Create an element with text (never HTML) and attributes. */
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "class") node.className = attrs[k];
      else if (k === "dataset") Object.keys(attrs[k]).forEach(function (d) { node.dataset[d] = attrs[k][d]; });
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setText(selectorOrNode, text) {
    var node = typeof selectorOrNode === "string" ? document.querySelector(selectorOrNode) : selectorOrNode;
    if (node) node.textContent = text === null || text === undefined ? "" : String(text);
    return node;
  }

  var DAYS = { id: ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
               en: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] };
  var MONTHS = { id: ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
                      "Oktober", "November", "Desember"],
                 en: ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                      "October", "November", "December"] };
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /** "Senin, 23 November 2026" */
  function formatDate(date, lang) {
    lang = lang === "en" ? "en" : "id";
    return DAYS[lang][date.getDay()] + ", " + date.getDate() + " " + MONTHS[lang][date.getMonth()] + " " +
      date.getFullYear();
  }
  function formatTime(date, seconds) {
    return pad(date.getHours()) + ":" + pad(date.getMinutes()) + (seconds ? ":" + pad(date.getSeconds()) : "");
  }

  /** Messages of a page in both languages: Antre.i18n({id: {...}, en: {...}}). */
  var messages = { id: {}, en: {} };
  var lang = document.documentElement.lang === "en" ? "en" : "id";
  function i18n(catalog) { messages = catalog || messages; }
  function t(key, vars) {
    var text = (messages[lang] && messages[lang][key]) || key;
    if (vars) Object.keys(vars).forEach(function (k) { text = text.split("%(" + k + ")s").join(String(vars[k])); });
    return text;
  }
  function setLang(next) {
    lang = next === "en" ? "en" : "id";
    document.documentElement.lang = lang;
    return lang;
  }
  function getLang() { return lang; }

  window.Antre = { api: api, ApiError: ApiError, connect: connect, el: el, setText: setText,
                   formatDate: formatDate, formatTime: formatTime, i18n: i18n, t: t, setLang: setLang,
                   getLang: getLang, csrf: function () { return csrf; } };
})();
