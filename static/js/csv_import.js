// The import form refuses a file over the server's limit before uploading it (the server
// would answer 413 after the whole upload): the limit comes from data-max-bytes.
(function () {
  document.addEventListener("change", (ev) => {
    const input = ev.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) {
      return;
    }
    const limit = Number(input.dataset.maxBytes);
    const file = input.files && input.files[0];
    input.setCustomValidity(
      file && file.size > limit
        ? `This file is ${file.size} bytes; the limit is ${limit} bytes. Split it into smaller files.`
        : "",
    );
    input.reportValidity();
  });
})();
