// The visual rule builder: nested ALL/ANY/NOT groups of field/operator/value rows <-> the JSON
// rule of DESIGN.md section 3. One builder edits the territory rule, another the member
// eligibility rule (whose rows may take their value from the member: `value_from`).
// Server-side validation paths (JSON pointers such as /all/1/any/0/value) land on their row.
// Exposes window.RuleBuilder.create(root, options); territory_editor.js wires it to the form.
(function () {
  const LIST_OPS = ["in", "not_in"], NO_VALUE = ["exists", "not_exists"];
  const MODES = [["all", "ALL of (AND)"], ["any", "ANY of (OR)"], ["not_all", "NOT all of"], ["not_any", "NONE of"]];
  const el = (tag, attrs = {}, kids = []) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) k === "text" ? (e.textContent = v) : e.setAttribute(k, v);
    kids.forEach((c) => e.appendChild(c));
    return e;
  };
  const parseValue = (raw) => (raw !== "" && !isNaN(Number(raw)) ? Number(raw) : raw);
  // Cells pasted from a spreadsheet arrive separated by tabs and newlines; commas work too.
  const parseList = (raw) => raw.split(/[\t\n\r,]+/).map((s) => s.trim()).filter(Boolean).map(parseValue);
  const isGroup = (node) => node && typeof node === "object" && ("all" in node || "any" in node || "not" in node);

  // A group node as {mode, children}: {"not": X} reads as NOT-all of X's children.
  function groupParts(node) {
    if (node.not !== undefined) {
      const inner = node.not;
      if (inner && inner.any) return {mode: "not_any", children: inner.any};
      if (inner && inner.all) return {mode: "not_all", children: inner.all};
      return {mode: "not_all", children: [inner]};
    }
    return node.any ? {mode: "any", children: node.any} : {mode: "all", children: node.all || []};
  }

  function create(root, options) {
    const opts = Object.assign({operators: [], memberKeys: null, readOnly: false, onChange: () => {}, emptyText: () => ""}, options);
    let pathIndex = {};
    const changed = () => { refreshEmpty(); opts.onChange(); };

    function conditionRow(cond) {
      const row = el("div", {class: "rb-row", "data-kind": "condition"});
      const field = el("input", {placeholder: "field", class: "rb-field", value: cond.field || "", "aria-label": "Field"});
      if (opts.fieldsList) field.setAttribute("list", opts.fieldsList);
      const op = el("select", {class: "rb-op", "aria-label": "Operator"}, opts.operators.map((o) => el("option", {value: o, text: o})));
      op.value = cond.op || "eq";
      const v = cond.value;
      const value = el("textarea", {class: "rb-value", placeholder: "value (paste a column for in)", "aria-label": "Value"});
      value.value = Array.isArray(v) ? v.join("\n") : v === undefined || v === null ? "" : String(v);
      row.append(field, op);
      if (opts.memberKeys) {
        // Where the value comes from: typed here, or the candidate member's own attribute.
        const source = el("select", {class: "rb-source", "aria-label": "Compare with"}, [el("option", {value: "", text: "the value"})]);
        const keys = [...opts.memberKeys];
        const ref = typeof cond.value_from === "string" ? cond.value_from.replace(/^member\./, "") : null;
        if (ref && !keys.includes(ref)) keys.push(ref);
        keys.forEach((k) => source.appendChild(el("option", {value: `member.${k}`, text: `member.${k}`})));
        source.value = ref ? `member.${ref}` : "";
        const toggle = () => { value.hidden = source.value !== "" || NO_VALUE.includes(op.value); };
        source.addEventListener("change", toggle);
        op.addEventListener("change", toggle);
        row.append(source);
        toggle();
      } else {
        op.addEventListener("change", () => { value.hidden = NO_VALUE.includes(op.value); });
        value.hidden = NO_VALUE.includes(op.value);
      }
      row.append(value);
      if (!opts.readOnly) {
        const remove = el("button", {type: "button", class: "danger rb-remove", text: "×", title: "Remove condition", "aria-label": "Remove condition"});
        remove.addEventListener("click", () => { row.remove(); changed(); });
        row.append(remove);
      }
      row.append(el("div", {class: "rb-error"}));
      row.addEventListener("input", changed);
      row.addEventListener("change", changed);
      return row;
    }

    function groupBox(node, isRoot) {
      const box = el("div", {class: "rb-group", "data-kind": "group"});
      const mode = el("select", {class: "rb-mode", "aria-label": "Group"}, MODES.map(([v, t]) => el("option", {value: v, text: t})));
      const kids = el("div", {class: "rb-children"});
      const head = el("div", {class: "rb-head"}, [mode]);
      if (!opts.readOnly) {
        const addRow = el("button", {type: "button", text: "+ condition", class: "rb-add-row"});
        const addGroup = el("button", {type: "button", text: "+ group", class: "rb-add-group"});
        // The root group stays: removing it empties it (an explicit "no conditions").
        const remove = el("button", {type: "button", text: isRoot ? "Remove all" : "Remove group", class: "danger rb-remove-group"});
        addRow.addEventListener("click", () => { kids.appendChild(conditionRow({})); changed(); });
        addGroup.addEventListener("click", () => { kids.appendChild(groupBox({all: [{}]}, false)); changed(); });
        remove.addEventListener("click", () => { if (isRoot) kids.replaceChildren(); else box.remove(); changed(); });
        head.append(addRow, addGroup, remove);
      }
      box.append(head, el("div", {class: "rb-error"}), kids);
      if (isRoot) box.append(el("p", {class: "rb-empty muted small", "data-testid": "rb-empty"}));
      const parts = groupParts(node);
      mode.value = parts.mode;
      mode.addEventListener("change", changed);
      for (const child of parts.children) kids.appendChild(isGroup(child) ? groupBox(child, false) : conditionRow(child || {}));
      return box;
    }

    function toJson(node, path) {
      pathIndex[path] = node;
      if (node.dataset.kind === "condition") {
        const op = node.querySelector(".rb-op").value;
        const raw = node.querySelector(".rb-value").value;
        const source = node.querySelector(".rb-source");
        const cond = {field: node.querySelector(".rb-field").value.trim(), op};
        if (NO_VALUE.includes(op)) return cond;
        if (source && source.value) cond.value_from = source.value;
        else if (LIST_OPS.includes(op)) cond.value = parseList(raw);
        else if (op === "between") cond.value = parseList(raw).slice(0, 2);
        else cond.value = parseValue(raw.trim());
        return cond;
      }
      const mode = node.querySelector(":scope > .rb-head .rb-mode").value;
      const kids = [...node.querySelector(":scope > .rb-children").children];
      if (mode.startsWith("not_")) {
        const key = mode.slice(4);
        pathIndex[`${path}/not`] = node;
        return {not: {[key]: kids.map((k, i) => toJson(k, `${path}/not/${key}/${i}`))}};
      }
      return {[mode]: kids.map((k, i) => toJson(k, `${path}/${mode}/${i}`))};
    }

    const top = () => root.firstElementChild;
    const isEmpty = () => !top().querySelector(":scope > .rb-children").children.length;

    // An empty root group is the rule null, said in words next to it, never silently.
    function rule() {
      pathIndex = {};
      if (isEmpty()) { pathIndex[""] = top(); return null; }
      return toJson(top(), "");
    }

    function refreshEmpty() {
      const note = top().querySelector(":scope > .rb-empty");
      note.textContent = isEmpty() ? opts.emptyText() : "";
      note.hidden = !isEmpty();
    }

    function clearErrors() {
      root.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
      root.querySelectorAll(".rb-error").forEach((n) => (n.textContent = ""));
    }

    function showErrors(errors) {
      rule(); // rebuild the pointer index from what is on screen
      for (const e of errors) {
        // Walk the pointer back until it names a rendered group or row.
        let path = e.path || "";
        while (!(path in pathIndex) && path) path = path.slice(0, path.lastIndexOf("/"));
        const node = pathIndex[path] || top();
        node.classList.add("invalid");
        const slot = node.querySelector(":scope > .rb-error");
        slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + e.message;
      }
    }

    // Rows nobody filled in (a new territory's first row) go when they would only be in the way.
    function dropBlankRows() {
      root.querySelectorAll(".rb-row[data-kind=condition]").forEach((row) => {
        if (!row.querySelector(".rb-field").value.trim() && !row.querySelector(".rb-value").value.trim()) row.remove();
      });
      changed();
    }

    const initial = opts.initial;
    root.replaceChildren(groupBox(isGroup(initial) ? initial : {all: initial ? [initial] : []}, true));
    refreshEmpty();
    return {rule, showErrors, clearErrors, refresh: refreshEmpty, dropBlankRows, isEmpty};
  }

  window.RuleBuilder = {create};
})();
