// Presentation clickers send Page Up / Page Down: they press the buttons named by the page's
// clicker marker (components.projector.clicker_keys), so a key does exactly what a click does,
// and keys typed into a field are left alone. Served from this server, so the Content-Security-
// Policy (script-src 'self') lets it run; installed once per browser tab.
(() => {
  if (window.gongzhiClicker) { return; }
  window.gongzhiClicker = true;
  document.addEventListener("keydown", (event) => {
    const marker = document.querySelector("[data-gongzhi-clicker]");
    const keys = marker ? {PageUp: marker.dataset.previous, PageDown: marker.dataset.next} : {};
    const key = keys[event.key];
    const typing = event.target.closest && event.target.closest("input, textarea, [contenteditable]");
    if (!key || typing) { return; }
    const button = document.querySelector(".st-key-" + key + " button");
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  });
})();
