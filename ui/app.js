// Entry point: signs in, keeps one Socket.IO session, and draws the station list, the SOC screen and (for
// operators) the commands, the frame stream and the bench screens from one station store. The fleet table lives
// on the fleet feed (one compact message a second); only the station shown is followed event by event.
import { createBench } from './js/bench/bench.js';
import { createCommands } from './js/commands.js';
import { createConnection } from './js/connection.js';
import { devTokenAvailable, fetchDevToken } from './js/dev-token.js';
import { byId, setText } from './js/dom.js';
import { clock } from './js/format.js';
import { createFrameStream } from './js/frame-stream.js';
import { createNotices } from './js/notices.js';
import { createMetricsPanel } from './js/ops/metrics-panel.js';
import { createOcppActions } from './js/ops/ocpp-actions.js';
import { createRiderPanel } from './js/rider/rider-panel.js';
import { createSignIn } from './js/sign-in.js';
import { createSocScreen } from './js/soc-screen.js';
import { createStationList } from './js/station-list.js';
import { createStationStore } from './js/station-store.js';
import { clearToken, loadToken, readClaims, saveToken } from './js/token-store.js';

const store = createStationStore();
const el = {
  workspace: byId('workspace'),
  conn: byId('conn-state'),
  connText: byId('conn-text'),
  who: byId('who'),
  signOut: byId('sign-out'),
};

let selectedId = decodeURIComponent(new URLSearchParams(location.hash.slice(1)).get('station') ?? '') || undefined;
let devEndpoint = false;
let renderScheduled = false;
/** Stations changed since the last frame was drawn. */
let dirtyIds = new Set();
/** Events read back from the history for a station's feed each time it is followed. */
const BACKFILL_EVENTS = 50;
/** Missed events since the gap notice was last dismissed. */
const missed = { events: 0, stations: new Set() };

const connection = createConnection({
  getToken: loadToken,
  handlers: {
    onState({ state, message }) {
      el.conn.dataset.state = state;
      const label = { connected: 'Live', connecting: 'Connecting', reconnecting: 'Reconnecting', refused: 'Signed out', offline: 'Offline' }[state] ?? state;
      setText(el.connText, message && state !== 'connected' ? `${label}: ${message}` : label);
    },
    onFleet(entries, complete) {
      // The ack at once (the first station is chosen from it); a tick's changes in slices.
      if (!complete) {
        applyFleetInSlices(entries);
        return;
      }
      store.applyFleet(entries, (id) => connection.follows(id));
      // The fleet ack (on every connect): the first station is shown if none was chosen; findings of before
      // this page and the relay's upstream states come from the REST API.
      scheduleRender();
      if (!findingsRead) void readFindings();
      void readUpstreams();
    },
    onSubscribed(ack) {
      const fresh = ack.replay.length === 0;
      store.applySubscribe(ack);
      // Only the followed station shows "Recent events": read back from the history when it is followed
      // (not after a resume, which replays what was missed itself).
      if (fresh) for (const s of ack.stations) if (connection.follows(s.chargeBoxId)) backfill(s.chargeBoxId, s.seq);
    },
    onEvent: (e) => {
      if (store.applyEvent(e)) rider.onEvent(e);
    },
    onSummary: (s) => store.applySummary(s),
    onFrame: (entry) => frames.onFrame(entry),
    onFramesLost: (info) => frames.onLost(info),
    onTokenExpiring: (info) => notices.tokenExpiring(info),
    onSignedOut: (message) => signOut(message),
    onNotice: (text, kind) => notices.notice(text, kind),
    onTest: (u) => bench.onTest(u),
    onMetrics(m) {
      metrics.onMetrics(m);
      // Upstream states are not pushed per station: read them again when the gateway's counts of them change.
      const key = JSON.stringify(m.gateway?.upstreams ?? {});
      if (key !== upstreamsKey) {
        upstreamsKey = key;
        void readUpstreams();
      }
    },
    onGap(gap) {
      // One notice for all gaps until dismissed: a mass gap over 1,000 stations must not make 1,000 banners.
      missed.events += gap.missed ?? gap.to - gap.from + 1;
      missed.stations.add(gap.chargeBoxId);
      const where = missed.stations.size === 1 ? gap.chargeBoxId : `${missed.stations.size} stations (latest ${gap.chargeBoxId})`;
      notices.sticky(
        `${missed.events} events of ${where} were missed; the gateway history no longer held them. The stations were re-read from fresh snapshots.`,
        'warning',
        'gap',
        () => {
          missed.events = 0;
          missed.stations.clear();
        },
      );
    },
  },
});

const signIn = createSignIn({ onToken: (token) => begin(token) });
const notices = createNotices({
  devAvailable: () => devEndpoint,
  async onNewToken(token) {
    try {
      saveToken(token ?? (await fetchDevToken('operator')));
    } catch (err) {
      notices.notice(`Could not get a dev token: ${err.message}`, 'alert');
      return;
    }
    notices.tokenRenewed();
    showWho();
    connection.renew();
  },
});
const list = createStationList(byId('station-list'), byId('stations-empty'), select);
const screen = createSocScreen({ onConnectorChange: () => scheduleRender() });
const rider = createRiderPanel({ getToken: loadToken, onError: (message) => notices.notice(message, 'warning') });
const commands = createCommands({ call: (id, action, payload) => connection.call(id, action, payload) });
const ocppActions = createOcppActions({ call: (id, action, payload) => connection.call(id, action, payload), getToken: loadToken });
const metrics = createMetricsPanel({ setMetrics: (on) => connection.setMetrics(on) });
const frames = createFrameStream({ connection, getToken: loadToken, knownStations: () => store.ids() });
const bench = createBench({ getToken: loadToken, setTestUpdates: (on) => connection.setTests(on), revealFrame: (f) => frames.reveal(f) });

/**
 * The token for a REST read, or undefined once it has expired: the gateway is about to say goodbye, and a read with
 * it would only be refused (a 401 in the console, and nothing to show).
 */
function liveToken() {
  const token = loadToken();
  const exp = token ? readClaims(token)?.exp : undefined;
  return token && (exp === undefined || exp > Date.now()) ? token : undefined;
}

/** The fleet's "has findings" filter also knows the findings of before this page loaded (last 1,000 kept). */
let findingsRead = false;
async function readFindings() {
  const token = liveToken();
  if (token === undefined) return;
  findingsRead = true;
  try {
    const res = await fetch('api/events?type=finding&limit=1000', { headers: { Authorization: `Bearer ${token}` } });
    if (res.ok) store.countFindings((await res.json()).events ?? []);
  } catch {
    findingsRead = false;
  }
}

let upstreamsKey = '';
async function readUpstreams() {
  const token = liveToken();
  if (token === undefined) return;
  try {
    const res = await fetch('api/stations', { headers: { Authorization: `Bearer ${token}` } });
    if (res.ok) store.setUpstreamStates((await res.json()).stations ?? []);
  } catch {
    // The next metrics sample with other counts tries again.
  }
}

/** Fleet entries applied per task: a message of 1,000 entries is not one long task (bench:ui). */
const FLEET_SLICE = 200;
const fleetSlices = [];
function applyFleetInSlices(entries) {
  const idle = fleetSlices.length === 0;
  for (let i = 0; i < entries.length; i += FLEET_SLICE) fleetSlices.push(entries.slice(i, i + FLEET_SLICE));
  if (idle) applyNextFleetSlice();
}
function applyNextFleetSlice() {
  const slice = fleetSlices.shift();
  if (!slice) return;
  store.applyFleet(slice, (id) => connection.follows(id));
  if (fleetSlices.length > 0) setTimeout(applyNextFleetSlice, 0);
}

/** Fills a station's "Recent events" from the gateway's history (events already held are skipped by id). */
function backfill(id, seq) {
  if (seq > 0) connection.replay(id, Math.max(0, seq - BACKFILL_EVENTS));
}

function select(id) {
  selectedId = id;
  history.replaceState(null, '', `#station=${encodeURIComponent(id)}`);
  scheduleRender();
}

function render() {
  renderScheduled = false;
  const ids = store.ids();
  // Nothing (or an unknown station) chosen yet: show the first one.
  if (!selectedId || !store.get(selectedId)) selectedId = ids[0] ?? selectedId;
  const selected = selectedId ? store.get(selectedId) : undefined;
  // Every event of the station shown; the rest of the fleet from the fleet feed.
  connection.follow(selected?.id);
  const dirty = dirtyIds;
  dirtyIds = new Set();
  list.render(ids.map((id) => store.get(id)), selectedId, dirty);
  screen.render(selected);
  rider.render(selected, selected ? screen.shownSummary(selected) : {});
  commands.render(selected, selected ? screen.shownConnector(selected) : undefined);
  ocppActions.render(selected);
  bench.render(selected);
  frames.refreshStations();
}

function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(render);
}

function showWho() {
  const claims = readClaims(loadToken());
  const role = claims?.role ?? 'unknown role';
  setText(el.who, `${claims?.sub ?? 'unknown'} (${role}${claims?.exp ? `, until ${clock(new Date(claims.exp).toISOString())}` : ''})`);
  const operator = claims?.role === 'operator';
  commands.setVisible(operator);
  frames.setVisible(operator);
  ocppActions.setVisible(operator);
  metrics.setVisible(operator);
  bench.setVisible(operator);
}

function begin(token) {
  saveToken(token);
  signIn.hide();
  el.workspace.hidden = false;
  el.signOut.hidden = false;
  showWho();
  connection.start();
}

function signOut(message) {
  connection.stop();
  clearToken();
  notices.tokenRenewed();
  el.workspace.hidden = true;
  el.signOut.hidden = true;
  setText(el.who, '');
  void signIn.show(message);
}

el.signOut.addEventListener('click', () => signOut('Signed out.'));
// Pushed changes are drawn at most every DATA_RENDER_MS: at 1,000 stations updating each second, drawing every
// animation frame costs the page more than the data does (bench:ui). User actions still draw on the next frame.
const DATA_RENDER_MS = 150;
let dataTimer;
store.onChange((id) => {
  dirtyIds.add(id);
  dataTimer ??= setTimeout(() => {
    dataTimer = undefined;
    scheduleRender();
  }, DATA_RENDER_MS);
});
setInterval(() => {
  screen.tick();
  rider.tick();
}, 1000);
void devTokenAvailable().then((available) => {
  devEndpoint = available;
});

const saved = loadToken();
if (saved) begin(saved);
else void signIn.show();
