// Scrolls the page so that a block (a container with a widget key) starts at the top of the
// screen, e.g. the live meeting's item after each run (components.projector.scroll_to_block).
// Served from this server, so the Content-Security-Policy (script-src 'self') lets it run; the
// page names the block with a marker, and a new `?n=` on each run that asks makes it run again.
(() => {
  const markers = document.querySelectorAll("[data-gongzhi-scroll]");
  const marker = markers[markers.length - 1];
  if (!marker) { return; }
  const key = marker.dataset.gongzhiScroll;
  const margin = marker.dataset.margin || "0";
  for (const delay of [0, 150, 400, 900]) {
    setTimeout(() => {
      const block = document.querySelector(".st-key-" + key);
      if (block) { block.style.scrollMarginTop = margin + "px"; block.scrollIntoView({block: "start"}); }
    }, delay);
  }
})();
