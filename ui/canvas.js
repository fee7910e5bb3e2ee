// Adopts ui/canvas.css into every drawable canvas's shadow root as it appears, names its reset
// button Clear, and makes Ctrl+Z (Cmd+Z) undo and Ctrl+Shift+Z / Ctrl+Y redo through its buttons.
// Runs once per browser tab: a page change renders this script again, which then does nothing.
// An expression: ui/canvas.py calls it with the stylesheet's text.
(css) => {
  if (window.hdrCanvasChrome) return;
  window.hdrCanvasChrome = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  const HOSTS = '[data-testid="stBidiComponentIsolated"]';  // Streamlit's host of a v2 component's shadow root
  const NAMES = {  // the component's aria-label -> what the button is called here, and its tooltip
    "Reset canvas & history": ["Clear", "Clear the canvas"],
    Undo: ["Undo", "Undo (Ctrl+Z)"],
    Redo: ["Redo", "Redo (Ctrl+Shift+Z)"],
  };
  const rename = (root) => {
    for (const button of root.querySelectorAll(".dc-icon-button")) {
      const name = NAMES[button.getAttribute("aria-label")];
      if (name) [button.ariaLabel, button.title] = name;
    }
  };
  const dress = () => {
    for (const host of document.querySelectorAll(HOSTS)) {
      const root = host.shadowRoot;
      if (!root || root.adoptedStyleSheets.includes(sheet)) continue;
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      new MutationObserver(() => rename(root)).observe(root, { childList: true, subtree: true });  // the toolbar comes later
      rename(root);
    }
  };
  new MutationObserver(dress).observe(document.body, { childList: true, subtree: true });
  dress();
  const press = (label) => {
    for (const host of document.querySelectorAll(HOSTS)) {
      const button = host.shadowRoot?.querySelector(`.dc-icon-button[aria-label="${label}"]`);
      if (button && !button.disabled && button.checkVisibility()) {
        button.click();
        return true;
      }
    }
    return false;
  };
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    if (event.target.closest?.('input, textarea, select, [contenteditable="true"]')) return;  // their own undo
    const key = event.key.toLowerCase();
    const label = key === "z" ? (event.shiftKey ? "Redo" : "Undo") : key === "y" ? "Redo" : null;
    if (label && press(label)) event.preventDefault();
  });
}
