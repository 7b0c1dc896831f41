// Streamlit's frontend writes some strings in English whatever the app's language, and no API
// parameter sets them: "Select all" and "No results" in the dropdowns of select boxes and
// multiselects, the default placeholders ("Choose options"), the file uploader's words and the
// "Page not found" dialog. The page's marker (components.streamlit_strings) carries the page
// language and, for a language other than English, each English original with its translation
// (from gongzhi/locales/streamlit.json); this script puts the translation in place of exactly
// those texts, only inside Streamlit's widgets, dropdowns and dialogs, as Streamlit draws them
// (a MutationObserver), and puts the English back when the language becomes English again.
// Served from this server, so the Content-Security-Policy (script-src 'self') lets it run;
// installed once per browser tab.
(() => {
  if (window.gongzhiStreamlitStrings) { return; }
  window.gongzhiStreamlitStrings = true;
  const SCOPE = ["[data-testid='stMultiSelect']", "[data-testid='stSelectbox']", "[role='listbox']", "[role='dialog']",
                 "[data-testid='stFileUploader']", "[data-baseweb='popover']", "[data-baseweb='select']"].join(", ");
  const ATTRIBUTES = ["placeholder", "aria-label"];
  let source = null;
  let exact = new Map();
  let patterns = [];
  const changed = new Map(); // text node or [element, attribute] key -> the English it replaced

  const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

  function readMarker() {
    const marker = document.querySelector("[data-gongzhi-strings]");
    if (!marker || marker.dataset.gongzhiStrings === source) { return false; }
    source = marker.dataset.gongzhiStrings;
    document.documentElement.lang = marker.dataset.lang || "en";
    const table = JSON.parse(source || "{}");
    exact = new Map();
    patterns = [];
    for (const [english, translated] of Object.entries(table)) {
      if (english.includes("{n}")) {
        const [before, after] = english.split("{n}");
        patterns.push([new RegExp("^" + escapeRegExp(before) + "(.+?)" + escapeRegExp(after) + "$"), translated]);
      } else {
        exact.set(english, translated);
      }
    }
    return true;
  }

  function translated(text) {
    const trimmed = (text || "").trim();
    if (!trimmed) { return null; }
    if (exact.has(trimmed)) { return text.replace(trimmed, exact.get(trimmed)); }
    for (const [pattern, translation] of patterns) {
      const match = trimmed.match(pattern);
      if (match) { return text.replace(trimmed, translation.replace("{n}", match[1])); }
    }
    return null;
  }

  function inScope(node) {
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    return !!(element && element.closest(SCOPE));
  }

  function visitText(node) {
    if (!inScope(node)) { return; }
    const text = translated(node.nodeValue);
    if (text !== null && text !== node.nodeValue) {
      if (!changed.has(node)) { changed.set(node, node.nodeValue); }
      node.nodeValue = text;
    }
  }

  function visitElement(element) {
    if (!inScope(element)) { return; }
    for (const name of ATTRIBUTES) {
      const value = element.getAttribute(name);
      const text = value === null ? null : translated(value);
      if (text !== null && text !== value) {
        element.setAttribute(name, text);
        element.dataset["gongzhiEnglish" + name.replace("-", "")] = value;
        changed.set(element, null);
      }
    }
  }

  function visit(root) {
    if (!root || (exact.size === 0 && patterns.length === 0)) { return; }
    if (root.nodeType === Node.TEXT_NODE) { visitText(root); return; }
    if (root.nodeType !== Node.ELEMENT_NODE) { return; }
    visitElement(root);
    root.querySelectorAll("[placeholder], [aria-label]").forEach(visitElement);
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) { visitText(node); }
  }

  function revert() {
    for (const [node, english] of changed) {
      if (node.nodeType === Node.TEXT_NODE) {
        node.nodeValue = english;
      } else {
        for (const name of ATTRIBUTES) {
          const key = "gongzhiEnglish" + name.replace("-", "");
          if (key in node.dataset) { node.setAttribute(name, node.dataset[key]); delete node.dataset[key]; }
        }
      }
    }
    changed.clear();
  }

  new MutationObserver((mutations) => {
    if (readMarker()) {
      revert();
      visit(document.body);
      return;
    }
    for (const mutation of mutations) {
      if (mutation.type === "childList") {
        mutation.addedNodes.forEach(visit);
      } else {
        visit(mutation.target);
      }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ATTRIBUTES});
  readMarker();
  visit(document.body);
})();
