// "Test a record" on the territories page: posts field=value lines to the match endpoint and
// shows the explanation. Text only (textContent), never HTML from the response.
(function () {
  const run = document.getElementById("match-run");
  if (!run) return;
  run.addEventListener("click", async () => {
    const fields = {};
    for (const line of document.getElementById("match-fields").value.split("\n")) {
      const i = line.indexOf("="); if (i < 1) continue;
      const v = line.slice(i + 1).trim(); fields[line.slice(0, i).trim()] = v !== "" && !isNaN(Number(v)) ? Number(v) : v;
    }
    const body = {record: {type: "lead", fields}};
    if (run.dataset.plan) body.plan = Number(run.dataset.plan);
    const r = await fetch(run.dataset.url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": run.dataset.csrf}, body: JSON.stringify(body)});
    renderMatch(r.status, await r.json());
  });

  function renderMatch(status, data) {
    const box = document.getElementById("match-result");
    box.replaceChildren();
    const add = (tag, text, cls) => { const el = document.createElement(tag); el.textContent = text; if (cls) el.className = cls; box.appendChild(el); return el; };
    if (status >= 400) {
      add("p", "The record was refused:", "error");
      add("pre", JSON.stringify(data, null, 2), "json");
      return;
    }
    add("p", data.winner ? `Winner: ${data.winner.name}` : "No territory matches this record.", data.winner ? "strong" : "strong empty");
    const steps = document.createElement("ol"); steps.className = "steps"; box.appendChild(steps);
    for (const step of data.decision || []) {
      const li = document.createElement("li");
      li.textContent = `${step.step} — ${step.outcome}: ${step.detail}`;
      if (step.outcome === "lost") li.className = "muted";
      steps.appendChild(li);
    }
    if ((data.candidates || []).length > 1) {
      add("p", `${data.candidates.length} candidates, in resolution order: ` + data.candidates.map(c => c.name).join(" › "), "small");
    }
    const raw = document.createElement("details"); const summary = document.createElement("summary");
    summary.textContent = "Raw response"; raw.appendChild(summary);
    const pre = document.createElement("pre"); pre.className = "json"; pre.textContent = JSON.stringify(data, null, 2);
    raw.appendChild(pre); box.appendChild(raw);
  }
})();
