/* Admin pages: small progressive enhancements; every form also works without them.
   Text goes into the page with textContent only. */
(function () {
  "use strict";

  // Ask before destructive actions (revoke, deactivate): <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Move focus to the error summary so that screen readers and keyboards land on it.
  var summary = document.querySelector(".error-summary:not([hidden])");
  if (summary) summary.focus();

  // Copy buttons: <button data-copy="#input">.
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () { button.textContent = button.getAttribute("data-copied") || "OK"; };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done);
      else { try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ } }
    });
  });

  // Character counters: <textarea data-count="#counter">.
  Array.prototype.forEach.call(document.querySelectorAll("[data-count]"), function (area) {
    var out = document.querySelector(area.getAttribute("data-count"));
    var max = area.getAttribute("maxlength");
    var update = function () { if (out) out.textContent = area.value.length + " / " + max; };
    area.addEventListener("input", update);
    update();
  });

  // Opening hours: copy Monday's spans to Tuesday-Friday.
  var copy = document.getElementById("copy-monday");
  if (copy) copy.addEventListener("click", function () {
    ["tue", "wed", "thu", "fri"].forEach(function (day) {
      [1, 2].forEach(function (n) {
        ["open", "close"].forEach(function (end) {
          var from = document.getElementById("f-h_mon_" + n + "_" + end);
          var to = document.getElementById("f-h_" + day + "_" + n + "_" + end);
          if (from && to) to.value = from.value;
        });
      });
    });
  });
})();
