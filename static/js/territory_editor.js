// The territory page: every setting of the territories API (settings, rule, named accounts,
// distribution and slots, member eligibility, fallbacks), saved with the admin's session
// through /api/v1/territories/ so that people and plays share one validation path. Errors
// come back as DRF field errors (rule errors with JSON pointers) and are shown at their field.
(function () {
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const box = document.getElementById("rb-config").dataset;
  const cfg = data("rb-config-data");
  const init = data("rb-initial");
  const territoryId = box.territoryId ? Number(box.territoryId) : null;
  const editable = box.editable === "1";
  const form = document.getElementById("territory-form");
  const f = form.elements;
  const el = (tag, attrs = {}, kids = []) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) k === "text" ? (e.textContent = v) : e.setAttribute(k, v);
    kids.forEach((c) => e.appendChild(c));
    return e;
  };

  // --- members: names for ids, and pickers that search the workspace's members ------------
  const members = new Map(cfg.members.map((m) => [m.id, m]));
  const memberLabel = (id) => { const m = members.get(id); return m ? m.name : `member ${id}`; };
  function fillPicker(select, list, {none = false} = {}) {
    const keep = select.value;
    select.replaceChildren();
    if (none) select.appendChild(el("option", {value: "", text: "(none)"}));
    const ids = list.map((m) => m.id);
    if (keep && !ids.includes(Number(keep))) ids.unshift(Number(keep));
    for (const id of ids) {
      const m = members.get(id) || {name: `member ${id}`};
      select.appendChild(el("option", {value: String(id), text: m.email ? `${m.name} (${m.email})` : m.name}));
    }
    select.value = keep && [...select.options].some((o) => o.value === keep) ? keep : select.options.length ? select.options[0].value : "";
  }
  const slotPicker = document.getElementById("slot-member");
  const fallbackPicker = document.getElementById("fallback-member");
  const active = cfg.members.filter((m) => m.is_active !== false);
  if (slotPicker) fillPicker(slotPicker, active);
  if (init.fallback_member) fallbackPicker.appendChild(el("option", {value: String(init.fallback_member), text: "…"}));
  fallbackPicker.value = init.fallback_member ? String(init.fallback_member) : "";
  fillPicker(fallbackPicker, active, {none: true});
  fallbackPicker.value = init.fallback_member ? String(init.fallback_member) : "";
  // Option labels carry the name only: selecting by label in a picker reads naturally.
  for (const select of [slotPicker, fallbackPicker]) {
    if (select) [...select.options].forEach((o) => { if (o.value) o.textContent = memberLabel(Number(o.value)); });
  }
  let searchTimer = null;
  document.querySelectorAll(".member-search").forEach((input) => {
    input.addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(async () => {
        const q = encodeURIComponent(input.value.trim());
        const r = await fetch(`/api/v1/members/?is_active=true&page_size=50&search=${q}`, {credentials: "same-origin"});
        if (!r.ok) return;
        const found = (await r.json()).results || [];
        found.forEach((m) => members.set(m.id, {id: m.id, name: m.name, email: m.email}));
        const select = document.getElementById(input.dataset.target);
        fillPicker(select, found, {none: select === fallbackPicker});
        [...select.options].forEach((o) => { if (o.value) o.textContent = memberLabel(Number(o.value)); });
      }, 250);
    });
  });

  // --- settings --------------------------------------------------------------------------
  for (const name of ["name", "description", "priority", "kind", "distribution"]) {
    if (init[name] !== undefined && init[name] !== null) f[name].value = init[name];
  }
  if (init.parent) f.parent.value = String(init.parent);
  if (init.fallback_territory) f.fallback_territory.value = String(init.fallback_territory);
  f.is_active.checked = init.is_active !== false;

  // --- named accounts: paste many, deduplicated, counted -------------------------------------
  function namedAccounts() {
    const seen = new Set(), out = [];
    let duplicates = 0;
    for (const item of f.named_accounts.value.split(/[\s,;]+/)) {
      const value = item.trim();
      if (!value) continue;
      const key = value.toLowerCase();
      if (seen.has(key)) { duplicates += 1; continue; }
      seen.add(key);
      out.push(value);
    }
    return {accounts: out, duplicates};
  }
  function countAccounts() {
    const {accounts, duplicates} = namedAccounts();
    document.querySelector("[data-testid=named-count]").textContent =
      `${accounts.length} account${accounts.length === 1 ? "" : "s"}` + (duplicates ? ` · ${duplicates} duplicate${duplicates === 1 ? "" : "s"} removed` : "");
  }
  f.named_accounts.value = (init.named_accounts || []).join("\n");
  f.named_accounts.addEventListener("input", countAccounts);
  countAccounts();

  // --- the two rule builders ------------------------------------------------------------
  const isNamed = () => f.kind.value === "named_account";
  const ruleBuilder = window.RuleBuilder.create(document.getElementById("rule-builder"), {
    initial: territoryId ? init.rule : (init.rule || {all: [{}]}),
    operators: cfg.operators, fieldsList: "rule-fields", readOnly: !editable,
    onChange: () => { document.getElementById("rule-json").textContent = JSON.stringify(ruleBuilder ? ruleBuilder.rule() : null, null, 2); },
    emptyText: () => isNamed()
      ? "No conditions: records reach this named-account territory through its named accounts (no rule needed)."
      : f.parent.value ? "No conditions: this territory matches every record its parent matches." : "No conditions: this territory matches every record (a catch-all).",
  });
  const memberBuilder = window.RuleBuilder.create(document.getElementById("member-rule-builder"), {
    initial: init.member_rule, operators: cfg.operators, fieldsList: "rule-fields",
    memberKeys: cfg.member_keys, readOnly: !editable,
    onChange: () => { document.getElementById("member-rule-json").textContent = JSON.stringify(memberBuilder ? memberBuilder.rule() : null, null, 2); },
    emptyText: () => "No conditions: every member of the slots is eligible (absence and capacity still apply).",
  });
  const showJson = () => {
    document.getElementById("rule-json").textContent = JSON.stringify(ruleBuilder.rule(), null, 2);
    document.getElementById("member-rule-json").textContent = JSON.stringify(memberBuilder.rule(), null, 2);
  };
  function kindChanged() {
    document.getElementById("rule-hint").textContent = isNamed()
      ? "Named-account territory: the accounts listed below route here; a rule is optional."
      : "";
    if (isNamed() && editable) ruleBuilder.dropBlankRows();
    ruleBuilder.refresh();
  }
  f.kind.addEventListener("change", kindChanged);
  f.parent.addEventListener("change", () => ruleBuilder.refresh());
  kindChanged();
  showJson();

  // --- slots: primary / backup / overlay, weights, order by drag (or ↑ ↓) ------------------
  const slotList = document.getElementById("slots");
  let dragged = null;
  function slotItem(slot) {
    const li = el("li", {"data-member": String(slot.member)});
    const role = el("select", {class: "slot-role", "aria-label": "Role"}, cfg.slot_roles.map((r) => el("option", {value: r, text: r})));
    role.value = slot.role || "primary";
    const weight = el("input", {type: "number", min: "1", value: String(slot.weight || 1), class: "rb-weight", title: "weight", "aria-label": "Weight"});
    const credit = el("input", {type: "number", min: "0", max: "100", value: String(slot.credit_percent || 0), class: "rb-credit", title: "overlay split credit %", "aria-label": "Credit percent"});
    const creditLabel = el("span", {class: "muted small rb-credit-label", text: "credit %"});
    const showCredit = () => { const overlay = role.value === "overlay"; credit.hidden = !overlay; creditLabel.hidden = !overlay; };
    role.addEventListener("change", showCredit);
    li.append(el("span", {class: "slot-name", text: `${editable ? "☰ " : ""}${memberLabel(slot.member)}`}), role, el("span", {class: "muted small", text: "weight"}), weight, creditLabel, credit);
    showCredit();
    if (editable) {
      li.setAttribute("draggable", "true");
      const up = el("button", {type: "button", class: "slot-up", text: "↑", title: "Earlier in the rotation"});
      const down = el("button", {type: "button", class: "slot-down", text: "↓", title: "Later in the rotation"});
      const remove = el("button", {type: "button", class: "danger slot-remove", text: "×", title: "Remove slot"});
      up.addEventListener("click", () => { if (li.previousElementSibling) slotList.insertBefore(li, li.previousElementSibling); });
      down.addEventListener("click", () => { if (li.nextElementSibling) slotList.insertBefore(li.nextElementSibling, li); });
      remove.addEventListener("click", () => li.remove());
      li.append(up, down, remove);
      li.addEventListener("dragstart", () => { dragged = li; });
      li.addEventListener("dragover", (ev) => { ev.preventDefault(); });
      li.addEventListener("drop", (ev) => {
        ev.preventDefault();
        if (dragged && dragged !== li) slotList.insertBefore(dragged, li);
      });
    }
    li.append(el("div", {class: "rb-error slot-error"}));
    return li;
  }
  (init.slots || []).forEach((s) => slotList.appendChild(slotItem(s)));
  const addSlot = document.getElementById("slot-add");
  if (addSlot) {
    addSlot.addEventListener("click", () => {
      if (!slotPicker.value) return;
      slotList.appendChild(slotItem({member: Number(slotPicker.value), role: document.getElementById("slot-role").value}));
    });
  }

  // --- save -------------------------------------------------------------------------------
  const number = (v) => (v === "" ? null : Number(v));
  function body() {
    const slots = [...slotList.children].map((li, i) => ({member: Number(li.dataset.member),
      role: li.querySelector(".slot-role").value, weight: Number(li.querySelector(".rb-weight").value) || 1, position: i,
      credit_percent: li.querySelector(".slot-role").value === "overlay" ? Number(li.querySelector(".rb-credit").value) || 0 : 0}));
    return {plan: init.plan, name: f.name.value, description: f.description.value, kind: f.kind.value,
      parent: number(f.parent.value), priority: f.priority.value === "" ? 0 : Number(f.priority.value),
      is_active: f.is_active.checked, rule: ruleBuilder.rule(), named_accounts: namedAccounts().accounts,
      member_rule: memberBuilder.rule(), distribution: f.distribution.value,
      fallback_member: number(f.fallback_member.value), fallback_territory: number(f.fallback_territory.value), slots};
  }
  function showError(key, val) {
    if ((key === "rule" || key === "member_rule") && Array.isArray(val) && val.length && typeof val[0] === "object") {
      (key === "rule" ? ruleBuilder : memberBuilder).showErrors(val);
      return;
    }
    if (key === "slots" && Array.isArray(val) && val.some((v) => v && typeof v === "object")) {
      val.forEach((problem, i) => {
        const li = slotList.children[i];
        if (li && problem && Object.keys(problem).length) {
          li.classList.add("invalid");
          li.querySelector(".slot-error").textContent = Object.entries(problem).map(([k, m]) => `${k}: ${[].concat(m).join(" ")}`).join("; ");
        }
      });
      return;
    }
    const text = Array.isArray(val) ? val.join(" ") : typeof val === "string" ? val
      : Object.entries(val).map(([k, m]) => `${k}: ${[].concat(m).join(" ")}`).join("; ");
    const slot = document.querySelector(`[data-error="${key}"]`) || document.getElementById("form-error");
    slot.textContent = (slot.textContent ? slot.textContent + " " : "") + text;
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!editable) return;
    ruleBuilder.clearErrors();
    memberBuilder.clearErrors();
    slotList.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    document.querySelectorAll(".slot-error, [data-error], #form-error").forEach((n) => (n.textContent = ""));
    const url = territoryId ? `/api/v1/territories/${territoryId}/` : "/api/v1/territories/";
    const r = await fetch(url, {method: territoryId ? "PATCH" : "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.csrf}, body: JSON.stringify(body())});
    if (r.ok) { window.location = box.planUrl; return; }
    const answer = await r.json().catch(() => ({detail: `error ${r.status}`}));
    for (const [key, val] of Object.entries(answer)) if (key !== "code") showError(key, val);
    document.getElementById("form-error").textContent ||= "Not saved: see the highlighted fields.";
  });
})();
