// Replay result: allocations per rep, really and replayed, as grouped bars (Chart.js).
// Data comes from the json_script element the template renders (no inline script: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("replay-chart");
  const source = document.getElementById("replay-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Really", data: data.actual, backgroundColor: "#9aa5b1" },
        { label: "Replayed", data: data.replayed, backgroundColor: "#2f6fde" },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
});
