// @ts-check
// The operator's bench screens for the selected station, as tabs: fault injection, charger test runs, simulator
// controls and the test central system. Operators only: for any other token the whole section stays hidden and
// reads nothing. Each screen reads the gateway only while its tab is shown.
import { byId, setText } from '../dom.js';
import { createBenchTabs } from './bench-tabs.js';
import { createFaultsPanel } from './faults-panel.js';
import { createSimPanel } from './sim-panel.js';
import { createTestCsPanel } from './test-cs-panel.js';
import { createTestsPanel } from './tests-panel.js';

/**
 * @param {{ getToken: () => string | null | undefined, setTestUpdates: (on: boolean) => void,
 *   revealFrame: (frame: { id: number, time: string, chargeBoxId: string }) => Promise<boolean> }} deps
 */
export function createBench({ getToken, setTestUpdates, revealFrame }) {
  const section = byId('bench');
  const stationLabel = byId('bench-station');
  const faults = createFaultsPanel({ getToken });
  const tests = createTestsPanel({ getToken, revealFrame });
  const sim = createSimPanel({ getToken });
  const testCs = createTestCsPanel({ getToken });
  /** @type {Record<string, { setShown: (on: boolean) => void }>} */
  const panels = { 'bp-faults': faults, 'bp-tests': tests, 'bp-sim': sim, 'bp-cs': testCs };
  let visible = false;
  let shownPanel = '';

  function show(panelId) {
    shownPanel = panelId;
    for (const [id, p] of Object.entries(panels)) p.setShown(visible && id === panelId);
  }
  const tabs = createBenchTabs(byId('bench-tabs'), show);

  return {
    /** @param {boolean} on the token is an operator's */
    setVisible(on) {
      if (on === visible) return;
      visible = on;
      section.hidden = !on;
      // Test progress is followed for as long as an operator's page is open: a run started from the CLI is seen too.
      setTestUpdates(on);
      show(shownPanel || tabs.shown);
    },
    /** @param {{ id: string } | undefined} station the selected station */
    render(station) {
      const id = station?.id;
      setText(stationLabel, id ? `· ${id}` : '');
      faults.setStation(id);
      tests.setStation(id);
      sim.setStation(id);
    },
    /** A pushed charger test update. @param {any} update */
    onTest(update) {
      tests.onTest(update);
    },
  };
}
