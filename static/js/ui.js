// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can forbid
// inline script: forms with data-confirm ask first; selects with data-autosubmit submit on change.
(function () {
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  });
  document.addEventListener("change", (ev) => {
    const field = ev.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    }
  });
})();
