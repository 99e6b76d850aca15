// Export links marked data-keep-query follow the page's filters as they are now: filters that
// update the list in place (HTMX, hx-push-url) change the address bar, not the link's href.
(function () {
  document.addEventListener("click", (ev) => {
    const link = ev.target instanceof Element ? ev.target.closest("a[data-keep-query]") : null;
    if (link) {
      const url = new URL(link.href, window.location.href);
      url.search = window.location.search;
      url.searchParams.delete("page");
      link.href = url.toString();
    }
  });
})();
