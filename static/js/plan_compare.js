// The plan-comparison page: a bar chart of every rep's book (accounts) before and after the
// simulated plan, from the page's json_script data (no inline script: CSP).
(function () {
  "use strict";
  var canvas = document.getElementById("compare-chart");
  var source = document.getElementById("compare-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  canvas.parentElement.style.height = Math.max(220, 60 + data.labels.length * 26) + "px";
  var chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Before (active plan)", data: data.before, backgroundColor: "#9aa9c7" },
        { label: "After (this plan)", data: data.after, backgroundColor: "#2f6fed" }
      ]
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { beginAtZero: true, title: { display: true, text: "accounts" } } },
      plugins: { legend: { position: "top" } }
    }
  });
  canvas.dataset.rendered = String(chart.data.labels.length);
})();
