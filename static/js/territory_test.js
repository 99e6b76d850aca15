// "Test a record": the form posts with HTMX and the server renders the decision. A record it
// cannot read comes back as 400 with the lines at fault; htmx would not swap an error answer
// by default, so for this box it does (the answer is our own escaped HTML).
(function () {
  document.body.addEventListener("htmx:beforeSwap", (ev) => {
    if (ev.detail.target && ev.detail.target.id === "test-result" && ev.detail.xhr.status === 400) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });
})();
