// @ts-check
// The bench screens as WAI-ARIA tabs: one tab stop, arrow keys / Home / End move between tabs, and the shown
// panel's owner is told (it reads the gateway only while shown).

/**
 * @param {HTMLElement} tablist
 * @param {(panelId: string) => void} onShow
 */
export function createBenchTabs(tablist, onShow) {
  /** @type {HTMLButtonElement[]} */
  const tabs = [...tablist.querySelectorAll('[role="tab"]')].map((t) => /** @type {HTMLButtonElement} */ (t));
  let current = tabs.find((t) => t.getAttribute('aria-selected') === 'true') ?? tabs[0];

  /** @param {HTMLButtonElement} tab @param {boolean} focus */
  function select(tab, focus) {
    current = tab;
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute('aria-controls') ?? '');
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    onShow(tab.getAttribute('aria-controls') ?? '');
  }

  tablist.addEventListener('click', (ev) => {
    const tab = /** @type {HTMLElement} */ (ev.target).closest('[role="tab"]');
    if (tab) select(/** @type {HTMLButtonElement} */ (tab), false);
  });
  tablist.addEventListener('keydown', (ev) => {
    const i = tabs.indexOf(current);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length], true);
  });

  return {
    /** The id of the panel shown now. */
    get shown() {
      return current.getAttribute('aria-controls') ?? '';
    },
  };
}
