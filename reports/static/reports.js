/* Report charts, drawn locally with chart.js (/vendor/chart.umd.min.js).
   Every chart has a table with the same figures beside it (the accessible
   version); the charts only draw what the page carries in #chart-data. */
(function () {
  "use strict";
  var node = document.getElementById("chart-data");
  if (!node || typeof window.Chart === "undefined") return;
  var data = JSON.parse(node.textContent || "null");
  if (!data) return;
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var locale = data.lang === "en" ? "en-GB" : "id-ID";
  Chart.defaults.font.family = '"Noto Sans", "DejaVu Sans", Arial, sans-serif';
  Chart.defaults.font.size = 14;
  Chart.defaults.color = "#14202b";
  Chart.defaults.locale = locale;
  if (reduced) Chart.defaults.animation = false;
  var BLUE = "#0b5cab", ORANGE = "#a8570a", GREEN = "#1b6e3a";
  window.AntreCharts = {};

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    config.options = config.options || {};
    config.options.maintainAspectRatio = false;
    config.options.responsive = true;
    window.AntreCharts[id] = new Chart(canvas, config);
  }

  if (data.hours) {
    draw("chart-hours", {
      type: "bar",
      data: { labels: data.hours.labels, datasets: [{ label: data.hours.label, data: data.hours.issued,
        backgroundColor: BLUE }] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  if (data.tenants && data.tenants.labels.length) {
    draw("chart-tenants", {
      type: "bar",
      data: { labels: data.tenants.labels, datasets: [
        { label: data.tenants.wait_label, data: data.tenants.wait, backgroundColor: BLUE },
        { label: data.tenants.service_label, data: data.tenants.service, backgroundColor: ORANGE }
      ] },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true } } }
    });
  }
  if (data.days) {
    draw("chart-days", {
      type: "line",
      data: { labels: data.days.labels, datasets: [
        { label: data.days.issued_label, data: data.days.issued, borderColor: BLUE, backgroundColor: BLUE },
        { label: data.days.served_label, data: data.days.served, borderColor: GREEN, backgroundColor: GREEN }
      ] },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
  if (data.means) {
    draw("chart-elements", {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.means, backgroundColor: BLUE }] },
      options: { indexAxis: "y", scales: { x: { min: 0, max: 4, ticks: { stepSize: 1 } } } }
    });
  }
})();
