// Behaviour every page shares, kept out of the HTML so the Content-Security-Policy can forbid
// inline script: forms with data-confirm ask first; selects with data-autosubmit submit on change;
// a person whose time zone is not known yet has the browser's zone sent once (then the page
// reloads so that its times are in that zone).
(function () {
  const body = document.body;
  if (body && body.hasAttribute("data-timezone-unset")) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) {
      fetch(body.dataset.timezoneUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": body.dataset.csrf, "X-Requested-With": "fetch" },
        body: new URLSearchParams({ timezone: zone }),
      }).then((response) => {
        if (response.ok && zone !== "UTC" && zone !== "Etc/UTC") window.location.reload();
      });
    }
  }
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
