#!/usr/bin/env node
// The dashboard in a real browser: headless Chromium driven by playwright-core.
//
//   NODE_PATH=/tmp/leadsync-browser/node_modules node tests/browser/dashboard.mjs <page url> <token>
//
// Opens the page, signs in by typing the token, waits until the three charts have data, the
// latest-submissions table has rows and the live feed is connected, then prints `READY`. It then
// waits (up to 30 s) for a new item in the live feed, prints `FEED <text of the item>` and exits
// 0. On failure it prints `FAIL <reason>` followed by the browser's console errors (`CONSOLE ...`)
// and exits 1. Every wait is bounded and the browser is always closed.
//
// Environment: CHROMIUM (default /usr/bin/chromium); LEADSYNC_SCREENSHOT=<file.png> saves a
// full-page screenshot once the feed item has arrived and the panels have refreshed.

import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

const READY_TIMEOUT_MS = 60_000;
const FEED_TIMEOUT_MS = 30_000;
const HARD_TIMEOUT_MS = 150_000;
/** graphql-transport-ws has no acknowledgement of `subscribe`: give the server a moment. */
const SUBSCRIBE_SETTLE_MS = 750;
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const [url, token] = process.argv.slice(2);
const consoleErrors = [];
let context = null;
let userDataDir = null;

async function cleanup() {
  const closing = context;
  context = null;
  if (closing) await Promise.race([closing.close().catch(() => {}), sleep(10_000)]);
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  userDataDir = null;
}

async function fail(reason) {
  console.log(`FAIL ${reason}`);
  for (const line of consoleErrors) console.log(`CONSOLE ${line}`);
  await cleanup();
  process.exit(1);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` in the page until it reports `done`; fails early on a visible error banner. */
async function waitFor(page, what, timeoutMs, probe, arg) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    last = await page.evaluate(probe, arg).catch((e) => ({ done: false, detail: `evaluate: ${e.message}` }));
    if (last.done) return last;
    if (last.error) await fail(`${what}: the page shows an error: ${last.error}`);
    await sleep(200);
  }
  await fail(`${what}: not within ${timeoutMs / 1000} s (${last?.detail ?? 'no state'})`);
}

/** In the page: are the charts, the table and the live feed ready? */
function readiness() {
  const banner = document.querySelector('#error');
  const bannerText = banner && !banner.hidden ? banner.textContent.trim() : '';
  const panelErrors = [...document.querySelectorAll('.panel-error')]
    .filter((e) => !e.hidden)
    .map((e) => e.textContent.trim());
  const dashboard = window.leadsyncDashboard;
  if (!dashboard || !window.Chart) return { done: false, error: bannerText, detail: 'scripts not loaded' };
  const chart = (id) => window.Chart.getChart(document.getElementById(id));
  const points = (id) => {
    const c = chart(id);
    if (!c || c.data.datasets.length === 0) return -1;
    return Math.min(...c.data.datasets.map((d) => d.data.length));
  };
  const total = (id) => (chart(id)?.data.datasets[0]?.data ?? []).reduce((a, b) => a + b, 0);
  const state = {
    sources: points('chart-sources'),
    sourcesTotal: total('chart-sources'),
    campaigns: points('chart-campaigns'),
    campaignsTotal: total('chart-campaigns'),
    overTime: points('chart-over-time'),
    rows: document.querySelectorAll('#submissions tbody tr[data-id]').length,
    live: dashboard.liveState(),
    liveFor: dashboard.liveSince() ? Date.now() - dashboard.liveSince() : 0,
  };
  const done =
    state.sources > 0 &&
    state.sourcesTotal > 0 &&
    state.campaigns > 0 &&
    state.campaignsTotal > 0 &&
    state.overTime > 0 &&
    state.rows > 0 &&
    state.live === 'live';
  return {
    done,
    error: bannerText,
    detail: JSON.stringify({ ...state, panelErrors }),
    liveFor: state.liveFor,
  };
}

function feedArrived(before) {
  const count = window.leadsyncDashboard.feedCount();
  const first = document.querySelector('#feed li');
  // The feed keeps the latest position shown, to resume from after a reconnect.
  const position = window.leadsyncDashboard.feedPosition();
  return {
    done: count > before && first !== null && /^[0-9]+$/.test(position ?? ''),
    detail: `feed count ${count}, was ${before}; position ${position}`,
    text: first ? first.innerText : '',
  };
}

async function main() {
  if (!url || !token) await fail('usage: dashboard.mjs <page url> <token>');
  const hardStop = setTimeout(() => fail(`gave up after ${HARD_TIMEOUT_MS / 1000} s`), HARD_TIMEOUT_MS);
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    await fail(`playwright-core cannot be loaded (set NODE_PATH): ${e.message}`);
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'leadsync-chromium-'));
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: FLAGS,
      viewport: { width: 1440, height: 1000 },
      timeout: 30_000,
    });
  } catch (e) {
    await fail(`Chromium did not start: ${e.message}`);
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // WebSocket reconnects and aborted fetches are normal; record everything else.
    if (!request.url().includes('/graphql/ws')) {
      consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`);
    }
  });

  const response = await page.goto(url, { waitUntil: 'load' }).catch((e) => fail(`cannot open ${url}: ${e.message}`));
  if (!response || !response.ok()) await fail(`GET ${url} answered ${response?.status()}`);

  // Sign in as a person would: type the token, press the button.
  const field = page.getByLabel('API token');
  await field.waitFor({ state: 'visible' }).catch((e) => fail(`no sign-in form: ${e.message}`));
  await field.pressSequentially(token, { delay: 2 });
  await page.getByRole('button', { name: 'Sign in' }).click();

  const ready = await waitFor(page, 'charts, table and live feed', READY_TIMEOUT_MS, readiness);
  if (ready.liveFor < SUBSCRIBE_SETTLE_MS) await sleep(SUBSCRIBE_SETTLE_MS - ready.liveFor);
  if (await page.evaluate(() => sessionStorage.getItem('leadsync.token') === null)) {
    await fail('the token is not in sessionStorage after sign-in');
  }
  if (page.url().includes(token)) await fail('the token is in the address bar');
  const before = await page.evaluate(() => window.leadsyncDashboard.feedCount());
  console.log('READY');

  const arrived = await waitFor(page, 'a new live feed item', FEED_TIMEOUT_MS, feedArrived, before);
  console.log(`FEED ${arrived.text.replace(/\s+/g, ' ').trim()}`);

  if (process.env.LEADSYNC_SCREENSHOT) {
    await sleep(4_000); // the debounced refresh of charts and table
    await page.screenshot({ path: process.env.LEADSYNC_SCREENSHOT, fullPage: true });
  }
  if (consoleErrors.length) console.error(`browser console errors:\n${consoleErrors.join('\n')}`);
  clearTimeout(hardStop);
  await cleanup();
  process.exit(0);
}

main().catch((e) => fail(e?.stack ?? String(e)));
