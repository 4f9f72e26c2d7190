// leadsync dashboard: reads everything through GraphQL (POST /graphql) and follows new leads over
// graphql-transport-ws (/graphql/ws). No build step: Chart.js and graphql-ws are vendored UMD
// files loaded before this module (window.Chart, window.graphqlWs).
//
// The API token lives only in sessionStorage (this tab); a `?token=` (or `#token=`) sign-in link
// is read once and stripped from the address bar.

const TOKEN_KEY = 'leadsync.token';
const FEED_LIMIT = 50;
const REFRESH_EVERY_MS = 60_000;
const REFRESH_DEBOUNCE_MS = 1_500;
const REFRESH_MAX_WAIT_MS = 6_000;
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

// ------------------------------------------------------------------ operations (the contract's)
const OPS = {
  Viewer: `query Viewer { viewer { id name roles } }`,
  SyncStatus: `query SyncStatus {
    syncStatus { lastSyncAt submissionsSynced leadsCreated leadsUpdated failedSubmissions warnings }
  }`,
  LeadsBySource: `query LeadsBySource { leadsBySource { source count } }`,
  SubmissionsByCampaign: `query SubmissionsByCampaign($from: DateTime, $to: DateTime) {
    submissionsByCampaign(from: $from, to: $to) {
      campaign { id name account { id name } } submissions leadsCreated leadsUpdated
    }
  }`,
  SubmissionsOverTime: `query SubmissionsOverTime($from: DateTime!, $to: DateTime!, $interval: TimeInterval!, $campaignId: ID) {
    submissionsOverTime(from: $from, to: $to, interval: $interval, campaignId: $campaignId) { bucketStart count }
  }`,
  LinkedInUserProfiles: `query LinkedInUserProfiles {
    linkedInUserProfiles {
      id name authorizationStatus linkedInMemberName tokenExpiresAt reauthorizeBy reauthorizationWarning
      webhookLastValidatedAt
      lastSyncAt syncStatus statusDetails
      accounts { id linkedInId name enabledForSync syncStatus lastSyncAt }
    }
  }`,
  FormSubmissions: `query FormSubmissions($first: Int, $after: String, $filter: FormSubmissionFilter) {
    formSubmissions(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id linkedInId submittedAt testLead matchingStatus processingState
        lead { id email } form { id name } campaign { id name } account { id name }
      } }
    }
  }`,
  LeadSynced: `subscription LeadSynced($campaignId: ID, $formId: ID, $after: String) {
    leadSynced(campaignId: $campaignId, formId: $formId, after: $after) {
      position
      outcome
      lead { id email firstName lastName source }
      submission { id submittedAt campaign { id name } form { id name } }
    }
  }`,
};

// ------------------------------------------------------------------ small helpers
const $ = (selector) => document.querySelector(selector);

/** Creates an element; children are nodes or text (never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const numberFormat = new Intl.NumberFormat();
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

const fmtNumber = (n) => numberFormat.format(n ?? 0);
const fmtDateTime = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

function fmtRelative(iso) {
  if (!iso) return 'never';
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relativeFormat.format(0, 'second');
  if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relativeFormat.format(Math.round(seconds / 3600), 'hour');
  return relativeFormat.format(Math.round(seconds / 86_400), 'day');
}

/** SCREAMING_SNAKE_CASE → "Screaming snake case", with LinkedIn spelled right. */
function humanize(value) {
  if (!value) return '';
  const text = value.toLowerCase().replaceAll('_', ' ');
  return (text.charAt(0).toUpperCase() + text.slice(1)).replace(/linkedin/gi, 'LinkedIn');
}

const TONES = {
  AUTHORIZED: 'good', REAUTHORIZING: 'warn', EXPIRED: 'bad', NOT_AUTHORIZED: 'bad',
  ACTIVE: 'good', SYNCING_ACCOUNTS: 'info', NOT_SYNCING: '', NO_ACCOUNTS_AVAILABLE: 'warn',
  PENDING: 'warn', FORBIDDEN: 'bad', NO_FORMS_AVAILABLE: 'warn',
  NEW_LEAD_CREATED: 'good', UPDATED_EXISTING_LEAD: 'info', MATCHED_NOT_UPDATED: '',
  MATCH_FAILED: 'bad', LEAD_CREATION_FAILED: 'bad', LEAD_UPDATE_FAILED: 'bad',
  CREATED: 'good', UPDATED: 'info', UNCHANGED: '',
};
const badge = (value, label = humanize(value)) =>
  h('span', { class: `badge ${TONES[value] ?? ''}`.trim() }, label);

// ------------------------------------------------------------------ GraphQL over HTTP
class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const CODE_HINTS = {
  UNAUTHENTICATED: 'The token was not accepted. Sign in again with a valid API token.',
  FORBIDDEN: 'This token’s roles do not allow this view.',
  NETWORK: 'The server cannot be reached.',
};

function describe(error) {
  const code = error?.code ?? 'ERROR';
  return { code, message: CODE_HINTS[code] ? `${CODE_HINTS[code]} (${error.message})` : error?.message ?? String(error) };
}

async function gql(operationName, variables = {}) {
  const token = getToken();
  if (!token) throw new ApiError('UNAUTHENTICATED', 'not signed in');
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        Authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: OPS[operationName], operationName, variables }),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError('NETWORK', e.message);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `the server answered ${response.status} ${response.statusText}`);
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.extensions?.code ?? 'ERROR', first.message);
  }
  if (!response.ok) throw new ApiError(`HTTP_${response.status}`, `the server answered ${response.status}`);
  return body.data;
}

// ------------------------------------------------------------------ session
function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Takes a `?token=` or `#token=` sign-in link once, then removes it from the address bar. */
function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const token = url.searchParams.get('token') ?? hash.get('token');
  if (token === null) return;
  url.searchParams.delete('token');
  hash.delete('token');
  url.hash = hash.toString();
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  if (token.trim()) sessionStorage.setItem(TOKEN_KEY, token.trim());
}

function showError(error) {
  const box = $('#error');
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const { code, message } = describe(error);
  box.append(h('span', { class: 'code' }, code), ' ', message);
  box.hidden = false;
}

function showSignIn(error) {
  $('#dashboard').hidden = true;
  $('#session').hidden = true;
  $('#signin').hidden = false;
  showError(error);
  $('#token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const input = $('#token');
  const token = input.value.trim();
  if (!token) return;
  const button = $('#signin-button');
  button.disabled = true;
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await start();
    input.value = '';
  } finally {
    button.disabled = false;
    if (!state.signedIn) sessionStorage.removeItem(TOKEN_KEY);
  }
}

function signOut(error) {
  sessionStorage.removeItem(TOKEN_KEY);
  stopLive();
  clearInterval(state.refreshTimer);
  clearTimeout(state.debounceTimer);
  state.refreshTimer = state.debounceTimer = null;
  state.pendingSince = 0;
  state.signedIn = false;
  $('#feed').replaceChildren();
  $('#feed-empty').hidden = false;
  $('#submissions tbody').replaceChildren();
  $('#profiles').replaceChildren();
  $('#viewer').replaceChildren();
  for (const chart of Object.values(charts)) chart?.destroy();
  for (const key of Object.keys(charts)) charts[key] = null;
  state.feedCount = 0;
  showSignIn(error);
}

// ------------------------------------------------------------------ state
const state = {
  signedIn: false,
  refreshTimer: null,
  debounceTimer: null,
  pendingSince: 0,
  refreshing: null,
  refreshAgain: false,
  feedCount: 0,
  live: 'off',
  liveSince: 0,
  client: null,
  unsubscribe: null,
  connectedOnce: false,
  // The position of the latest lead event the feed showed: a resubscription (or graphql-ws's
  // own after a reconnect) asks for what came after it, so nothing is lost or shown twice.
  feedPosition: null,
};
const charts = { sources: null, campaigns: null, overTime: null };

async function start() {
  let viewer;
  try {
    viewer = (await gql('Viewer')).viewer;
  } catch (error) {
    if (error.code === 'UNAUTHENTICATED') signOut(error);
    else showSignIn(error);
    return;
  }
  state.signedIn = true;
  showError(null);
  $('#signin').hidden = true;
  $('#dashboard').hidden = false;
  $('#session').hidden = false;
  $('#viewer').replaceChildren(
    'Signed in as ',
    h('strong', {}, viewer.name),
    ` · ${viewer.roles.map(humanize).join(', ')}`,
  );
  startLive();
  await refreshAll();
  clearInterval(state.refreshTimer);
  state.refreshTimer = setInterval(() => refreshAll(), REFRESH_EVERY_MS);
}

// ------------------------------------------------------------------ panels
function panelError(name, error) {
  const box = document.querySelector(`[data-error-for="${name}"]`);
  if (!box) return;
  box.replaceChildren();
  if (!error) {
    box.hidden = true;
    return;
  }
  const { code, message } = describe(error);
  box.append(h('strong', {}, code), ' ', message);
  box.hidden = false;
}

async function loadSyncStatus() {
  const s = (await gql('SyncStatus')).syncStatus;
  const last = $('#kpi-last-sync');
  last.className = 'small';
  last.replaceChildren(
    s.lastSyncAt ? fmtRelative(s.lastSyncAt) : 'Never',
    h('span', { class: 'sub' }, s.lastSyncAt ? fmtDateTime(s.lastSyncAt) : 'no sync has finished yet'),
  );
  if (s.lastSyncAt) last.title = s.lastSyncAt;
  $('#kpi-submissions').textContent = fmtNumber(s.submissionsSynced);
  $('#kpi-created').textContent = fmtNumber(s.leadsCreated);
  $('#kpi-updated').textContent = fmtNumber(s.leadsUpdated);
  $('#kpi-failed').textContent = fmtNumber(s.failedSubmissions);
  $('#kpi-failed-card').classList.toggle('alert', s.failedSubmissions > 0);
  // The server's warnings: the LinkedIn API version's sunset, profiles to authorize again.
  const warnings = $('#sync-warnings');
  warnings.replaceChildren(...s.warnings.map((w) => h('li', {}, w)));
  warnings.hidden = s.warnings.length === 0;
}

/** The warning a profile deserves, if any: [text, severe]. The server says when the member
 * must authorize again (60 days without LinkedIn refresh tokens, 365 from consent with them). */
function expiryWarning(profile) {
  const status = profile.authorizationStatus;
  if (status === 'EXPIRED' || status === 'NOT_AUTHORIZED') {
    return [`${humanize(status)}: this profile does not sync until it is authorized on LinkedIn again.`, true];
  }
  if (!profile.reauthorizationWarning) return null;
  const by = profile.reauthorizeBy && new Date(profile.reauthorizeBy).getTime();
  return [profile.reauthorizationWarning, !by || by - Date.now() < EXPIRY_WARNING_DAYS * DAY_MS / 2];
}

async function loadProfiles() {
  const profiles = (await gql('LinkedInUserProfiles')).linkedInUserProfiles;
  const list = $('#profiles');
  if (profiles.length === 0) {
    list.replaceChildren(
      h('li', { class: 'empty' }, 'No LinkedIn profile yet: ',
        h('a', { href: '/console/#/profiles' }, 'create one in the console and authorize it'), '.'),
    );
    return;
  }
  list.replaceChildren(
    ...profiles.map((p) => {
      const warning = expiryWarning(p);
      return h(
        'li',
        { class: 'profile', dataset: { id: p.id } },
        h(
          'div',
          { class: 'profile-top' },
          h('span', { class: 'profile-name' }, p.name),
          p.linkedInMemberName && h('span', { class: 'profile-member' }, `(${p.linkedInMemberName})`),
          h('span', { class: 'visually-hidden' }, 'Authorization:'),
          badge(p.authorizationStatus),
          h('span', { class: 'visually-hidden' }, 'Sync:'),
          badge(p.syncStatus, `Sync: ${humanize(p.syncStatus)}`),
        ),
        h(
          'div',
          { class: 'profile-meta' },
          h('span', {}, 'Authorize again by ', h('strong', { title: p.reauthorizeBy ?? '' }, p.reauthorizeBy ? fmtDateTime(p.reauthorizeBy) : '—')),
          h('span', {}, 'Webhook validated ', h('strong', { title: p.webhookLastValidatedAt ?? '' }, p.webhookLastValidatedAt ? fmtRelative(p.webhookLastValidatedAt) : 'not yet')),
          h('span', {}, 'Last sync ', h('strong', { title: p.lastSyncAt ?? '' }, fmtRelative(p.lastSyncAt))),
          p.statusDetails && h('span', {}, p.statusDetails),
        ),
        warning && h('div', { class: `warning${warning[1] ? ' severe' : ''}`, role: 'note' }, '⚠ ', warning[0]),
        p.accounts.length > 0 &&
          h(
            'ul',
            { class: 'accounts', 'aria-label': `Ad accounts of ${p.name}` },
            p.accounts.map((a) =>
              h(
                'li',
                { class: `account${a.enabledForSync ? '' : ' disabled'}`, title: `LinkedIn account ${a.linkedInId}` },
                a.name,
                a.enabledForSync ? badge(a.syncStatus) : badge('NOT_SYNCING', 'Sync off'),
              ),
            ),
          ),
      );
    }),
  );
}

const PALETTE = ['#0a66c2', '#70b5f9', '#004182', '#44a36b', '#f5987e', '#c37d16', '#8f5849', '#5f9b41'];

function chartDefaults() {
  const Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.color = '#5e6670';
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  if (window.matchMedia('(prefers-reduced-motion: reduce)').matches) Chart.defaults.animation = false;
}

/** Creates or updates a chart in place; shows "No data yet" over an empty one. */
function drawChart(key, canvasId, config, empty, summary) {
  const canvas = document.getElementById(canvasId);
  if (charts[key]) {
    charts[key].data.labels = config.data.labels;
    charts[key].data.datasets.forEach((dataset, i) => {
      dataset.data = config.data.datasets[i].data;
    });
    charts[key].update();
  } else {
    charts[key] = new window.Chart(canvas, config);
  }
  canvas.setAttribute('aria-label', summary);
  const box = canvas.parentElement;
  let overlay = box.querySelector('.chart-empty');
  if (empty && !overlay) box.append((overlay = h('div', { class: 'chart-empty' }, 'No data yet')));
  if (!empty && overlay) overlay.remove();
}

async function loadSources() {
  const rows = (await gql('LeadsBySource')).leadsBySource;
  const labels = rows.map((r) => humanize(r.source));
  const data = rows.map((r) => r.count);
  drawChart(
    'sources',
    'chart-sources',
    {
      type: 'doughnut',
      data: { labels, datasets: [{ label: 'Leads', data, backgroundColor: PALETTE, borderWidth: 2 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        cutout: '58%',
        plugins: { legend: { position: 'bottom' } },
      },
    },
    data.every((n) => n === 0),
    `Leads by source: ${rows.map((r) => `${humanize(r.source)} ${r.count}`).join(', ') || 'none'}`,
  );
}

let campaignTitles = [];

/** "Name – Org" as lines; campaigns of the same name also get their account's own part. */
function campaignLabel(campaign, duplicated) {
  const clip = (text) => (text.length > 26 ? `${text.slice(0, 25)}…` : text);
  const lines = campaign.name.split(' – ');
  if (duplicated && campaign.account) {
    const own = campaign.account.name.split(' – ').filter((part) => !lines.includes(part));
    lines.push(own.join(' – ') || campaign.account.name);
  }
  return lines.map(clip);
}

async function loadCampaigns() {
  const rows = (await gql('SubmissionsByCampaign')).submissionsByCampaign.slice(0, 10);
  const counts = new Map();
  for (const r of rows) counts.set(r.campaign.name, (counts.get(r.campaign.name) ?? 0) + 1);
  const names = rows.map((r) => campaignLabel(r.campaign, counts.get(r.campaign.name) > 1));
  // Horizontal bars: room for every campaign's three bars and its name.
  document.getElementById('chart-campaigns').parentElement.style.height = `${Math.max(260, 70 + rows.length * 56)}px`;
  // Read by the tooltip of the chart as it is now (the chart outlives this call).
  campaignTitles = rows.map((r) =>
    r.campaign.account ? `${r.campaign.name} (${r.campaign.account.name})` : r.campaign.name,
  );
  drawChart(
    'campaigns',
    'chart-campaigns',
    {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          { label: 'Submissions', data: rows.map((r) => r.submissions), backgroundColor: '#0a66c2', borderRadius: 4 },
          { label: 'Leads created', data: rows.map((r) => r.leadsCreated), backgroundColor: '#44a36b', borderRadius: 4 },
          { label: 'Leads updated', data: rows.map((r) => r.leadsUpdated), backgroundColor: '#70b5f9', borderRadius: 4 },
        ],
      },
      options: {
        indexAxis: 'y',
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          legend: { position: 'bottom' },
          tooltip: { callbacks: { title: (items) => campaignTitles[items[0].dataIndex] } },
        },
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { grid: { display: false }, ticks: { autoSkip: false } },
        },
      },
    },
    rows.length === 0,
    `Submissions per campaign: ${rows.map((r) => `${r.campaign.name} ${r.submissions} submissions, ${r.leadsCreated} created, ${r.leadsUpdated} updated`).join('; ') || 'none'}`,
  );
}

async function loadOverTime() {
  const now = new Date();
  const tomorrow = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  const from = new Date(tomorrow - 30 * DAY_MS).toISOString();
  const to = new Date(tomorrow).toISOString();
  const buckets = (await gql('SubmissionsOverTime', { from, to, interval: 'DAY' })).submissionsOverTime;
  const labels = buckets.map((b) => dayFormat.format(new Date(b.bucketStart)));
  const data = buckets.map((b) => b.count);
  const total = data.reduce((a, b) => a + b, 0);
  drawChart(
    'overTime',
    'chart-over-time',
    {
      type: 'line',
      data: {
        labels,
        datasets: [
          {
            label: 'Submissions',
            data,
            borderColor: '#0a66c2',
            backgroundColor: 'rgba(10, 102, 194, 0.12)',
            fill: true,
            cubicInterpolationMode: 'monotone',
            pointRadius: 2.5,
            pointHoverRadius: 5,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: { legend: { display: false } },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    },
    buckets.length === 0,
    `Submissions over the last 30 days: ${total} in all`,
  );
}

async function loadSubmissions() {
  const connection = (await gql('FormSubmissions', { first: 20 })).formSubmissions;
  $('#submissions-total').textContent = `${fmtNumber(connection.totalCount)} in all`;
  const body = $('#submissions tbody');
  if (connection.edges.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No submissions yet')));
    return;
  }
  body.replaceChildren(
    ...connection.edges.map(({ node: s }) =>
      h(
        'tr',
        { dataset: { id: s.id } },
        h('td', { class: 'when', title: s.submittedAt }, fmtDateTime(s.submittedAt)),
        h(
          'td',
          { class: 'email' },
          s.lead?.email ?? h('span', { class: 'muted' }, s.lead ? 'no email' : 'no lead'),
          s.testLead && h('span', { class: 'badge warn test-tag' }, 'Test'),
        ),
        h(
          'td',
          {},
          s.campaign?.name ?? '—',
          s.account && h('span', { class: 'sub' }, s.account.name),
        ),
        h('td', {}, s.form?.name ?? '—'),
        h('td', {}, badge(s.matchingStatus)),
      ),
    ),
  );
}

const LOADERS = {
  syncStatus: loadSyncStatus,
  profiles: loadProfiles,
  sources: loadSources,
  campaigns: loadCampaigns,
  overTime: loadOverTime,
  submissions: loadSubmissions,
};

/** Reloads every panel; a refresh asked for while one runs runs once more afterwards. */
async function refreshAll() {
  if (!state.signedIn) return;
  if (state.refreshing) {
    state.refreshAgain = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    const results = await Promise.allSettled(
      Object.entries(LOADERS).map(async ([name, load]) => {
        try {
          await load();
          panelError(name, null);
        } catch (error) {
          panelError(name, error);
          throw error;
        }
      }),
    );
    const unauthenticated = results.find((r) => r.status === 'rejected' && r.reason?.code === 'UNAUTHENTICATED');
    if (unauthenticated) {
      signOut(unauthenticated.reason);
      return;
    }
    $('#last-refresh').textContent = `Updated ${timeFormat.format(new Date())}`;
  })();
  try {
    await state.refreshing;
  } finally {
    state.refreshing = null;
  }
  if (state.refreshAgain && state.signedIn) {
    state.refreshAgain = false;
    await refreshAll();
  }
}

/** Refreshes soon: waits for a quiet moment, but never longer than REFRESH_MAX_WAIT_MS. */
function scheduleRefresh() {
  const now = Date.now();
  if (!state.pendingSince) state.pendingSince = now;
  clearTimeout(state.debounceTimer);
  const wait = Math.max(0, Math.min(REFRESH_DEBOUNCE_MS, state.pendingSince + REFRESH_MAX_WAIT_MS - now));
  state.debounceTimer = setTimeout(() => {
    state.pendingSince = 0;
    refreshAll();
  }, wait);
}

// ------------------------------------------------------------------ live feed
function setLive(live, label) {
  state.live = live;
  if (live === 'live') state.liveSince = Date.now();
  const el = $('#live-status');
  el.dataset.state = live;
  el.querySelector('.live-label').textContent =
    label ?? { live: 'Live', connecting: 'Connecting…', error: 'Live feed offline', off: 'Live feed off' }[live];
}

function startLive() {
  stopLive();
  const url = new URL('/graphql/ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = window.graphqlWs.createClient({
    url: url.href,
    lazy: false,
    connectionParams: () => ({ authorization: `Bearer ${getToken()}` }),
    retryAttempts: Infinity,
    // 4401/4403: the token itself is refused; retrying would not help.
    shouldRetry: (event) => !(event && (event.code === 4401 || event.code === 4403)),
    retryWait: async (retries) => {
      await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 1000 * 2 ** Math.min(retries, 5))));
    },
    onNonLazyError: (error) => liveFailed(error),
    on: {
      connecting: () => setLive('connecting'),
      connected: () => {
        setLive('live');
        panelError('feed', null);
        // After a reconnection the feed replays what it missed (`after`); the panels reload.
        if (state.connectedOnce) scheduleRefresh();
        state.connectedOnce = true;
      },
      closed: (event) => {
        if (state.client === client && state.signedIn) setLive('connecting', 'Reconnecting…');
        if (event?.code === 4401 || event?.code === 4403) liveFailed(event);
      },
    },
  });
  state.client = client;
  subscribeFeed();
}

function liveFailed(error) {
  if (!state.signedIn) return;
  setLive('error');
  const code = error?.code === 4403 ? 'FORBIDDEN' : error?.code === 4401 ? 'UNAUTHENTICATED' : 'LIVE';
  const message = error?.reason || error?.message || 'the live connection failed';
  panelError('feed', new ApiError(code, message));
}

/** Positions are opaque but ordered: decimal strings compared as numbers. */
function isLater(position, than) {
  if (!position) return false;
  if (!than) return true;
  try {
    return BigInt(position) > BigInt(than);
  } catch {
    return false;
  }
}

function subscribeFeed() {
  const client = state.client;
  // graphql-ws sends this same payload again when it reconnects by itself: `after` is kept at
  // the latest position shown, so the server replays exactly what the feed missed meanwhile.
  const variables = state.feedPosition ? { after: state.feedPosition } : {};
  state.unsubscribe = client.subscribe(
    { query: OPS.LeadSynced, operationName: 'LeadSynced', variables },
    {
      next: (result) => {
        if (result.errors?.length) {
          const first = result.errors[0];
          panelError('feed', new ApiError(first.extensions?.code ?? 'ERROR', first.message));
        }
        const event = result.data?.leadSynced;
        if (!event) return;
        if (isLater(event.position, state.feedPosition)) {
          state.feedPosition = event.position;
          variables.after = event.position;
        }
        addFeedItem(event);
      },
      error: (error) => {
        // The stream ended with an error (for example: this subscriber lagged behind). Show it,
        // reload the panels and subscribe again: after the last position shown, unless the
        // server no longer holds what came since (REPLAY_UNAVAILABLE: start afresh).
        const first = Array.isArray(error) ? error[0] : error;
        if (Array.isArray(error)) {
          panelError('feed', new ApiError(first.extensions?.code ?? 'ERROR', first.message));
          if (first.extensions?.code === 'REPLAY_UNAVAILABLE') state.feedPosition = null;
        } else if (error?.code === 4401 || error?.code === 4403) liveFailed(error);
        resubscribe(client);
      },
      complete: () => resubscribe(client),
    },
  );
}

function resubscribe(client) {
  if (!state.signedIn || state.client !== client) return;
  scheduleRefresh();
  setTimeout(() => {
    if (state.signedIn && state.client === client && state.live !== 'error') subscribeFeed();
  }, 2000);
}

function stopLive() {
  const client = state.client;
  state.client = null;
  state.connectedOnce = false;
  state.feedPosition = null;
  if (state.unsubscribe) state.unsubscribe();
  state.unsubscribe = null;
  if (client) client.dispose();
  setLive('off');
}

function addFeedItem(event) {
  const lead = event.lead ?? {};
  const submission = event.submission ?? {};
  const name = [lead.firstName, lead.lastName].filter(Boolean).join(' ');
  const where = [submission.campaign?.name, submission.form?.name].filter(Boolean).join(' · ');
  const at = submission.submittedAt ? new Date(submission.submittedAt) : new Date();
  const item = h(
    'li',
    { class: 'feed-item fresh', dataset: { outcome: event.outcome, leadId: lead.id ?? '' } },
    badge(event.outcome),
    h(
      'div',
      { class: 'feed-who' },
      name || lead.email || 'Lead without a name',
      name && lead.email && h('span', { class: 'email' }, ` ${lead.email}`),
    ),
    h(
      'div',
      { class: 'feed-where' },
      where || 'no campaign',
      ' · ',
      h('time', { datetime: at.toISOString(), title: at.toISOString() }, timeFormat.format(at)),
    ),
  );
  const list = $('#feed');
  list.prepend(item);
  while (list.children.length > FEED_LIMIT) list.lastElementChild.remove();
  $('#feed-empty').hidden = true;
  state.feedCount += 1;
  $('#feed-note').textContent = `${fmtNumber(state.feedCount)} new since sign-in`;
  scheduleRefresh();
}

// ------------------------------------------------------------------ boot
window.leadsyncDashboard = {
  charts,
  feedCount: () => state.feedCount,
  feedPosition: () => state.feedPosition,
  liveState: () => state.live,
  liveSince: () => state.liveSince,
  refresh: () => refreshAll(),
};

function boot() {
  takeTokenFromUrl();
  $('#signin-form').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', () => signOut(null));
  $('#refresh').addEventListener('click', () => refreshAll());
  if (!window.Chart || !window.graphqlWs) {
    showSignIn(new ApiError('ASSETS', 'The chart or live-update library did not load; reload the page.'));
    return;
  }
  chartDefaults();
  if (getToken()) start();
  else showSignIn(null);
}

boot();
