// A period preset (fiscal year, quarter, month) fills the two date fields.
(function () {
  "use strict";
  const preset = document.getElementById("period-preset");
  if (!preset) return;
  preset.addEventListener("change", () => {
    if (!preset.value) return;
    const [start, end] = preset.value.split("|");
    document.getElementById("period-start").value = start;
    document.getElementById("period-end").value = end;
  });
})();
