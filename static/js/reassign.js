// The reassign form on an allocation's page. Choosing a member runs the dry check
// (GET …/reassign-check/?member=): a member who is inactive, absent or at capacity shows a
// warning, and the form then submits only with "override" ticked (for who may override).
// Reads its URLs from data attributes and the CSRF token from the form: no inline script.
(function () {
  const form = document.getElementById("reassign-form");
  if (!form) return;
  const member = form.elements.member;
  const override = form.elements.override;
  const warning = form.querySelector("[data-warning]");
  const overrideBox = form.querySelector("[data-override]");
  let checked = null; // {member, problem, may_override} of the latest dry check
  let sequence = 0;

  const detailUrl = (id) => form.dataset.detailUrl.replace(/\/0\/$/, `/${id}/`);
  const slot = (key) => form.querySelector(`[data-error="${key}"]`) || form.querySelector('[data-error="detail"]');
  const clearErrors = () => form.querySelectorAll("[data-error]").forEach((n) => (n.textContent = ""));

  function showCheck(result) {
    checked = result;
    override.checked = false;
    const blocked = Boolean(result && result.problem);
    warning.hidden = !blocked;
    overrideBox.hidden = !(blocked && result.may_override);
    if (!blocked) { warning.textContent = ""; return; }
    const name = member.options[member.selectedIndex].text;
    warning.textContent = `${name} cannot take this record now: ${result.problem}. ` +
      (result.may_override ? "Tick \u201coverride\u201d to reassign anyway." : "You may not override this.");
  }

  async function check() {
    const mine = ++sequence;
    const url = `${form.dataset.checkUrl}?member=${encodeURIComponent(member.value)}`;
    const r = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    const data = await r.json().catch(() => null);
    if (mine !== sequence) return; // a later choice superseded this check
    showCheck(r.ok ? data : null);
  }

  member.addEventListener("change", () => { clearErrors(); check(); });
  check();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    if (!form.elements.reason.value.trim()) { slot("reason").textContent = "A reason is required."; return; }
    const blocked = checked && checked.problem && String(checked.member) === member.value;
    if (blocked && !override.checked) {
      slot("override").textContent = checked.may_override
        ? "Tick override to reassign to this member anyway." : "This member cannot take the record.";
      return;
    }
    const r = await fetch(form.dataset.reassignUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value},
      body: JSON.stringify({member: Number(member.value), reason: form.elements.reason.value, override: Boolean(blocked && override.checked)}),
    });
    const data = await r.json().catch(() => ({detail: `error ${r.status}`}));
    if (r.ok && data.id) { window.location = detailUrl(data.id); return; }
    if (r.status === 409 && data.current) {
      const link = document.createElement("a");
      link.href = detailUrl(data.current);
      link.textContent = `#${data.current}`;
      slot("detail").replaceChildren("This entry is no longer current; the record's current entry is ", link, ".");
      return;
    }
    for (const [key, val] of Object.entries(data)) {
      if (key === "code") continue;
      slot(key).textContent = Array.isArray(val) ? val.join(" ") : String(val);
    }
    if (r.status === 400 && data.member) check(); // e.g. the member filled up meanwhile: warn now
  });
})();
