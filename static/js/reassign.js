// The reassign form on an allocation's page: posts to the API with the session and shows
// each error next to its field (textContent only).
(function () {
  const form = document.getElementById("reassign-form");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    form.querySelectorAll("[data-error]").forEach((n) => (n.textContent = ""));
    if (!form.elements.reason.value.trim()) { form.querySelector('[data-error="reason"]').textContent = "A reason is required."; return; }
    const r = await fetch(form.dataset.url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
      body: JSON.stringify({member: Number(form.elements.member.value), reason: form.elements.reason.value})});
    const data = await r.json().catch(() => ({detail: `error ${r.status}`}));
    if (r.ok && data.id) { window.location = `/allocations/${data.id}/`; return; }
    for (const [key, val] of Object.entries(data)) {
      const slot = form.querySelector(`[data-error="${key}"]`) || form.querySelector('[data-error="detail"]');
      slot.textContent = Array.isArray(val) ? val.join(" ") : String(val);
    }
  });
})();
