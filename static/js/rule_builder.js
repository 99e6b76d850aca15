// The visual rule builder: nested AND/OR groups of field/operator/value rows <-> the JSON rule.
// Server-side validation paths (JSON pointers such as /all/1/any/0/value) land on their row.
(function () {
  // Data arrives as json_script blocks and data attributes: never as script text.
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const box = document.getElementById("rb-config").dataset;
  const cfg = {initial: data("rb-initial"), members: data("rb-members"), operators: data("rb-operators"),
    territoryId: box.territoryId ? Number(box.territoryId) : null, csrf: box.csrf, planUrl: box.planUrl};
  const LIST_OPS = ["in", "not_in"], NO_VALUE = ["exists", "not_exists"];
  const el = (tag, attrs = {}, kids = []) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) k === "text" ? (e.textContent = v) : e.setAttribute(k, v);
    kids.forEach((c) => e.appendChild(c));
    return e;
  };
  const parseValue = (raw) => (raw !== "" && !isNaN(Number(raw)) ? Number(raw) : raw);
  // Cells pasted from a spreadsheet arrive separated by tabs and newlines; commas work too.
  const parseList = (raw) => raw.split(/[\t\n\r,]+/).map((s) => s.trim()).filter(Boolean).map(parseValue);

  function conditionRow(cond) {
    const row = el("div", {class: "rb-row", "data-kind": "condition"});
    const field = el("input", {placeholder: "field", class: "rb-field", value: cond.field || ""});
    const op = el("select", {class: "rb-op"}, cfg.operators.map((o) => el("option", {value: o, text: o})));
    op.value = cond.op || "eq";
    let v = cond.value;
    const text = Array.isArray(v) ? v.join("\n") : v === undefined || v === null ? "" : String(v);
    const value = el("textarea", {class: "rb-value", placeholder: "value (paste a column for in)"});
    value.value = text;
    const remove = el("button", {type: "button", class: "danger", text: "×", title: "Remove row"});
    remove.onclick = () => { row.remove(); sync(); };
    row.append(field, op, value, remove, el("div", {class: "rb-error"}));
    row.addEventListener("input", sync);
    return row;
  }

  function groupBox(node) {
    const box = el("div", {class: "rb-group", "data-kind": "group"});
    const mode = el("select", {class: "rb-mode"}, [el("option", {value: "all", text: "ALL of (AND)"}), el("option", {value: "any", text: "ANY of (OR)"})]);
    const kids = el("div", {class: "rb-children"});
    const addRow = el("button", {type: "button", text: "+ condition", class: "rb-add-row"});
    const addGroup = el("button", {type: "button", text: "+ group", class: "rb-add-group"});
    const remove = el("button", {type: "button", text: "Remove group", class: "danger"});
    addRow.onclick = () => { kids.appendChild(conditionRow({})); sync(); };
    addGroup.onclick = () => { kids.appendChild(groupBox({all: [{}]})); sync(); };
    remove.onclick = () => { box.remove(); sync(); };
    box.append(el("div", {class: "rb-head"}, [mode, addRow, addGroup, remove]), el("div", {class: "rb-error"}), kids);
    mode.value = node && node.any ? "any" : "all";
    mode.onchange = sync;
    for (const child of (node && (node.any || node.all)) || []) {
      kids.appendChild(child.all || child.any ? groupBox(child) : conditionRow(child));
    }
    return box;
  }

  const root = document.getElementById("rule-builder");
  let pathIndex = {};
  function toJson(node, path) {
    pathIndex[path] = node;
    if (node.dataset.kind === "condition") {
      const op = node.querySelector(".rb-op").value;
      const raw = node.querySelector(".rb-value").value;
      const cond = {field: node.querySelector(".rb-field").value.trim(), op};
      if (LIST_OPS.includes(op)) cond.value = parseList(raw);
      else if (op === "between") cond.value = parseList(raw).slice(0, 2);
      else if (!NO_VALUE.includes(op)) cond.value = parseValue(raw.trim());
      return cond;
    }
    const key = node.querySelector(":scope > .rb-head .rb-mode").value;
    const kids = [...node.querySelector(":scope > .rb-children").children];
    return {[key]: kids.map((k, i) => toJson(k, `${path}/${key}/${i}`))};
  }
  function currentRule() {
    pathIndex = {};
    const top = root.firstElementChild;
    if (!top || !top.querySelector(".rb-row")) return null;
    return toJson(top, "");
  }
  function sync() { document.getElementById("rule-json").textContent = JSON.stringify(currentRule(), null, 2); }

  function showRuleErrors(errors) {
    for (const e of errors) {
      // Walk the pointer back until it names a rendered group or row.
      let path = e.path || "";
      while (!(path in pathIndex) && path) path = path.slice(0, path.lastIndexOf("/"));
      const node = pathIndex[path] || root.firstElementChild;
      if (!node) continue;
      node.classList.add("invalid");
      const slot = node.querySelector(":scope > .rb-error");
      slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + e.message;
    }
  }

  // Slots: primary/backup/overlay with weights; HTML5 drag and drop sets the rotation order.
  const slotList = document.getElementById("slots");
  const memberName = (id) => (cfg.members.find((m) => m.id === id) || {name: `member ${id}`}).name;
  let dragged = null;
  function slotItem(slot) {
    const li = el("li", {draggable: "true", "data-member": slot.member, "data-role": slot.role || "primary"});
    const weight = el("input", {type: "number", min: "1", value: slot.weight || 1, class: "rb-weight", title: "weight"});
    const remove = el("button", {type: "button", class: "danger", text: "×"});
    remove.onclick = () => li.remove();
    li.append(el("span", {text: `☰ ${memberName(slot.member)} · ${slot.role || "primary"} · weight `}), weight, remove);
    li.addEventListener("dragstart", () => { dragged = li; });
    li.addEventListener("dragover", (ev) => { ev.preventDefault(); });
    li.addEventListener("drop", (ev) => {
      ev.preventDefault();
      if (dragged && dragged !== li) slotList.insertBefore(dragged, li);
    });
    return li;
  }
  document.getElementById("slot-add").onclick = () => {
    slotList.appendChild(slotItem({member: Number(document.getElementById("slot-member").value), role: document.getElementById("slot-role").value}));
  };

  const form = document.getElementById("territory-form");
  const init = cfg.initial;
  for (const name of ["name", "description", "priority"]) if (init[name] !== undefined) form.elements[name].value = init[name];
  if (init.parent) form.elements.parent.value = init.parent;
  root.appendChild(groupBox(init.rule && (init.rule.all || init.rule.any) ? init.rule : {all: init.rule ? [init.rule] : [{}]}));
  (init.slots || []).forEach((s) => slotList.appendChild(slotItem(s)));
  sync();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    document.querySelectorAll(".rb-error, [data-error], #form-error").forEach((n) => (n.textContent = ""));
    const slots = [...slotList.children].map((li, i) => ({member: Number(li.dataset.member), role: li.dataset.role,
      weight: Number(li.querySelector(".rb-weight").value) || 1, position: i}));
    const body = {plan: init.plan, name: form.elements.name.value, description: form.elements.description.value,
      parent: form.elements.parent.value ? Number(form.elements.parent.value) : null,
      priority: form.elements.priority.value === "" ? 0 : Number(form.elements.priority.value), rule: currentRule(), slots};
    const url = cfg.territoryId ? `/api/v1/territories/${cfg.territoryId}/` : "/api/v1/territories/";
    const r = await fetch(url, {method: cfg.territoryId ? "PATCH" : "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": cfg.csrf}, body: JSON.stringify(body)});
    if (r.ok) { window.location = cfg.planUrl; return; }
    const data = await r.json().catch(() => ({detail: `error ${r.status}`}));
    for (const [key, val] of Object.entries(data)) {
      if (key === "rule" && Array.isArray(val) && typeof val[0] === "object") { showRuleErrors(val); continue; }
      const slot = document.querySelector(`[data-error="${key}"]`) || document.getElementById("form-error");
      slot.textContent = typeof val === "string" ? val : JSON.stringify(val);
    }
  });
})();
