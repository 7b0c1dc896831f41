// On a phone the sidebar lies over the page: once a page of the menu is chosen, fold it away.
// (Streamlit folds it itself only for browsers that call themselves mobile; a phone-sized window
// of any browser gets the same.) Served from this server, so the Content-Security-Policy
// (script-src 'self') lets it run; installed once per browser tab.
(() => {
  if (window.gongzhiSidebar) { return; }
  window.gongzhiSidebar = true;
  const PHONE = "(max-width: 768px)";
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-testid='stSidebarNav'] a");
    if (!link || !window.matchMedia(PHONE).matches) { return; }
    setTimeout(() => {  // after Streamlit's own handling of the click
      const fold = document.querySelector("[data-testid='stSidebarCollapseButton'] button[aria-expanded='true']");
      if (fold) { fold.click(); }
    }, 0);
  }, true);
})();
