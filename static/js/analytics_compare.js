// The comparison page's charts (Chart.js, served from node_modules): the data comes from the
// page's json_script block, never from inline script (CSP).
(function () {
  "use strict";
  const source = document.getElementById("compare-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const common = {responsive: true, maintainAspectRatio: false, animation: false,
    plugins: {legend: {position: "bottom"}}, scales: {x: {ticks: {autoSkip: false}}}};
  const amounts = new Chart(document.getElementById("chart-amounts"), {
    type: "bar",
    data: {labels: data.labels, datasets: [
      {label: "Quota", data: data.quota, backgroundColor: "#cbd5e1"},
      {label: "Won", data: data.won, backgroundColor: "#2563eb"},
      {label: "Open pipeline", data: data.pipeline, backgroundColor: "#93c5fd"},
    ]},
    options: common,
  });
  const rates = new Chart(document.getElementById("chart-rates"), {
    type: "bar",
    data: {labels: data.labels, datasets: [
      {label: "Attainment %", data: data.attainment, backgroundColor: "#16a34a"},
      {label: "Win rate %", data: data.win_rate, backgroundColor: "#f59e0b"},
    ]},
    options: common,
  });
  document.body.dataset.chartsRendered = String([amounts, rates].length);
})();
