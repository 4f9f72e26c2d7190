#!/usr/bin/env node
// The console's procedures in a real browser: headless Chromium driven by playwright-core.
//
//   NODE_PATH=/tmp/leadsync-browser/node_modules node tests/browser/console.mjs \
//     <base url> <LEADGEN_ADMINISTRATOR token> <LEADGEN_SALESPERSON token> \
//     <SYSTEM_ADMINISTRATOR token> <screenshot directory>
//
// Walks the procedures of the retired connector's documentation in order, as its people would:
// controls are found by role and accessible name (docs/console.md), never by CSS. Each procedure
// prints `PASS <procedure>` or `FAIL <procedure>: <reason>`; a procedure whose prerequisite failed
// prints `FAIL <procedure>: not run: ...`. On every page (and dialog) it opens, it runs axe-core and
// fails the procedure on a serious or critical violation (every violation is printed as an
// `AXE ...` line), and saves a full-page screenshot `<nn>-<procedure>-<page>.png`. A browser console
// error or page error during a procedure fails it too. After a failure the browser's console errors
// and page errors follow as `CONSOLE ...` lines. Exits 1 on any failure. Every wait is bounded and
// the browser is always closed.
//
// The names of what it creates are printed first as `NAME <kind> <name>` lines, so that the test
// that runs it (tests/api/console.rs) can check in the database what the clicks did. Environment:
// CHROMIUM (default /usr/bin/chromium); CONSOLE_TEST_RUN=<tag> appends a tag to those names (to
// run it again against the same demo server).
//
// axe-core is evaluated into the page rather than added as a <script> tag: the console's CSP
// (`script-src 'self'`) refuses inline scripts, and the refusal would itself be a console error.

import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

const HARD_TIMEOUT_MS = 210_000;
/** Generous: CI runs this beside the whole test suite on two cores. */
const ACTION_TIMEOUT_MS = 15_000;
/** Discovery after the authorization, and a sync, may take a while on a busy machine. */
const ACCOUNTS_TIMEOUT_MS = 45_000;
const SYNC_TIMEOUT_MS = 60_000;
/** A delivery, or an endpoint's disabling after failing, goes through the dispatcher's polling. */
const WEBHOOK_TIMEOUT_MS = 30_000;
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

const [baseArg, adminToken, salesToken, systemToken, shotDir] = process.argv.slice(2);
const base = (baseArg ?? '').replace(/\/+$/, '');
const consoleUrl = `${base}/console/`;
const run = process.env.CONSOLE_TEST_RUN ? ` ${process.env.CONSOLE_TEST_RUN}` : '';
const NAMES = {
  mapping: `Browser test question${run}`,
  strategy: `Browser strategy${run}`,
  throwaway: `Throwaway strategy${run}`,
  profile: `Browser LinkedIn profile${run}`,
  user: `Browser-made user${run}`,
  webhook: `Browser webhook receiver${run}`,
  failingWebhook: `Browser failing receiver${run}`,
};
/** Where the browser-made field mapping writes. */
const MAPPING_LEAD_FIELD = 'custom.browserTest';
/** What the strategy matches on. */
const STRATEGY_FIELDS = ['EMAIL', 'COMPANY_NAME'];
/** The sandbox accepts any non-empty password. */
const SANDBOX_PASSWORD = 'sandbox-password';

const consoleErrors = [];
let browser = null;
let shotCount = 0;
let current = 'start';
let failures = 0;
const axeSource = (() => {
  try {
    return readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  } catch {
    return null;
  }
})();

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function closeBrowser() {
  const closing = browser;
  browser = null;
  if (closing) await Promise.race([closing.close().catch(() => {}), sleep(10_000)]);
  receiver.server?.closeAllConnections?.();
  receiver.server?.close();
  receiver.server = null;
}

async function abort(reason) {
  console.log(`FAIL ${current}: ${reason}`);
  for (const line of consoleErrors) console.log(`CONSOLE ${line}`);
  await closeBrowser();
  process.exit(1);
}

const slug = (text) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** Records console errors, page errors and failed requests of `page`, tagged with who and when. */
function watch(page, who) {
  page.setDefaultTimeout(ACTION_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(20_000);
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const where = message.location()?.url ?? '';
    consoleErrors.push(`${who} [${current}] ${message.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`${who} [${current}] page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // Leaving a page aborts its open fetches and its WebSocket: that is not an error.
    const why = request.failure()?.errorText ?? '';
    if (why.includes('ERR_ABORTED') || request.url().includes('/graphql/ws')) return;
    consoleErrors.push(`${who} [${current}] request failed: ${request.url()} ${why}`);
  });
  return page;
}

/** The visible alerts of the page, for a failure's reason. */
async function alerts(page) {
  const texts = await page
    .getByRole('alert')
    .allInnerTexts()
    .catch(() => []);
  return texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** Waits until the page has a heading and no "Loading…" placeholder (bounded). */
async function settle(page) {
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ready = await page
      .evaluate(
        () =>
          document.readyState === 'complete' &&
          document.querySelector('h1') !== null &&
          document.querySelector('.loading') === null &&
          ![...document.querySelectorAll('[role=status]')].some((e) => /^(Loading|Signing in)/.test(e.textContent.trim())),
      )
      .catch(() => false);
    if (ready) break;
    await sleep(100);
  }
  await sleep(150); // let the last render paint
}

/**
 * The check every page gets: axe-core (fails on serious or critical violations) and a full-page
 * screenshot `<nn>-<procedure>-<label>.png`.
 */
async function checkPage(page, label) {
  await settle(page);
  shotCount += 1;
  const file = `${String(shotCount).padStart(2, '0')}-${slug(current)}-${slug(label)}.png`;
  await page.screenshot({ path: join(shotDir, file), fullPage: true }).catch((e) => {
    console.log(`NOTE screenshot ${file} failed: ${e.message}`);
  });
  if ((await page.evaluate(() => typeof window.axe).catch(() => 'undefined')) === 'undefined') {
    await page.evaluate(axeSource);
  }
  const { checked, violations } = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return { checked: result.passes.length + result.violations.length, violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      target: (v.nodes[0]?.target ?? []).join(' '),
      help: v.help,
    })) };
  });
  if (checked === 0) throw new Error(`axe checked nothing on ${label} (${file})`);
  for (const v of violations) {
    console.log(`AXE ${file}: ${v.id} (${v.impact}) ×${v.nodes} at ${v.target}: ${v.help}`);
  }
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) {
    throw new Error(
      `axe on ${label} (${file}): ${bad.map((v) => `${v.id} (${v.impact}) at ${v.target}`).join('; ')}`,
    );
  }
}

/** Fails with `what` (and the page's alerts) unless `locator` becomes visible within `timeout`. */
async function visible(page, locator, what, timeout = ACTION_TIMEOUT_MS) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    const shown = await alerts(page);
    throw new Error(`${what}: not shown within ${timeout / 1000} s${shown.length ? ` (the page says: ${shown.join(' | ')})` : ''}`);
  }
  return locator.first();
}

async function gone(page, locator, what, timeout = ACTION_TIMEOUT_MS) {
  try {
    await locator.first().waitFor({ state: 'detached', timeout });
  } catch {
    const shown = await alerts(page);
    throw new Error(`${what}: still shown after ${timeout / 1000} s${shown.length ? ` (the page says: ${shown.join(' | ')})` : ''}`);
  }
}

const heading = (page, name) => page.getByRole('heading', { level: 1, name, exact: true });
const menu = (page) => page.getByRole('navigation', { name: 'Console' });
const button = (scope, name) => scope.getByRole('button', { name, exact: true });

/** Opens a menu item and waits for its page's heading. */
async function openMenu(page, label) {
  await (await visible(page, menu(page).getByRole('link', { name: label, exact: true }), `menu item "${label}"`)).click();
  await visible(page, heading(page, label), `the "${label}" page`);
}

/** The open modal dialog. */
async function dialog(page) {
  return visible(page, page.getByRole('dialog'), 'the confirmation dialog');
}

/** Fills a labelled control, whether the page made it a text box or a select. */
async function fillOrSelect(page, label, value) {
  const control = await visible(page, page.getByLabel(label, { exact: true }), `the "${label}" control`);
  const tag = await control.evaluate((e) => e.tagName.toLowerCase());
  if (tag !== 'select') {
    await control.fill(value);
    return value;
  }
  const options = await control.evaluate((e) => [...e.options].filter((o) => !o.disabled && o.value).map((o) => o.value));
  const choice = options.includes(value) ? value : options[0];
  if (!choice) throw new Error(`the "${label}" select offers nothing to choose`);
  await control.selectOption(choice);
  return choice;
}

/** One GraphQL request from inside the page (as any script of the page could send it). */
async function graphql(page, token, query, variables = {}) {
  return page.evaluate(
    async ({ token, query, variables }) => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
    { token, query, variables },
  );
}

async function signIn(page, token) {
  const response = await page.goto(consoleUrl, { waitUntil: 'load' });
  if (!response || !response.ok()) throw new Error(`GET ${consoleUrl} answered ${response?.status()}`);
  await visible(page, page.getByRole('heading', { name: 'Sign in to the leadsync console' }), 'the sign-in page');
  await checkPage(page, 'sign-in');
  await page.getByLabel('API token', { exact: true }).fill(token);
  await button(page, 'Sign in').click();
  await visible(page, menu(page), 'the console menu after signing in');
  await visible(page, button(page, 'Sign out'), 'the "Sign out" button');
  if (await page.evaluate(() => sessionStorage.getItem('leadsync.token') === null)) {
    throw new Error('the token is not in sessionStorage after signing in');
  }
  if (page.url().includes(token)) throw new Error('the token is in the address bar');
}

/** An RFC 4180 reader (CRLF records, quoted fields with doubled quotes): rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 1;
    } else {
      field += c;
    }
  }
  if (field || row.length) throw new Error('the CSV does not end with CRLF');
  return rows;
}

// ------------------------------------------------------------------ a webhook receiver
/**
 * The outbound webhooks' receiver, on a port of 127.0.0.1: `/hooks/ok` answers 200 (with a JSON
 * body naming the `webhook-id`), `/hooks/failing` 503. Every request is recorded with whether its
 * `webhook-signature` verifies (Standard Webhooks) with one of the secrets the console showed, and
 * with which.
 */
const receiver = { server: null, base: '', secrets: [], requests: [] };

function signature(secret, id, timestamp, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

function startReceiver() {
  return new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      const chunks = [];
      request.on('data', (chunk) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const id = String(request.headers['webhook-id'] ?? '');
        const timestamp = String(request.headers['webhook-timestamp'] ?? '');
        const signatures = String(request.headers['webhook-signature'] ?? '').split(' ');
        const signedWith = receiver.secrets.findIndex((s) => signatures.includes(signature(s, id, timestamp, body)));
        let type = null;
        try {
          type = JSON.parse(body.toString('utf8')).type ?? null;
        } catch {
          type = null;
        }
        receiver.requests.push({ path: request.url, method: request.method, id, type, signedWith });
        if (request.url === '/hooks/failing') {
          response.writeHead(503, { 'content-type': 'text/plain' });
          response.end('the test receiver is down');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ received: id }));
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      receiver.server = server;
      receiver.base = `http://127.0.0.1:${server.address().port}`;
      resolve();
    });
  });
}

/** The signing secrets shown in `page`'s main area (`whsec_<base64>`). */
async function shownSecrets(page) {
  const text = await page.getByRole('main').innerText();
  return [...new Set(text.match(/whsec_[A-Za-z0-9+/=]{20,}/g) ?? [])];
}

/** Waits until `check()` returns something truthy (bounded); returns it, or throws `what`. */
async function until(check, what, timeout = ACTION_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout / 1000} s`);
    await sleep(200);
  }
}

// ------------------------------------------------------------------ the procedures
const ctx = {};

const procedures = [
  {
    name: 'Sign in',
    async run() {
      ctx.admin = watch(await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage(), 'administrator');
      await signIn(ctx.admin, adminToken);
      await visible(ctx.admin, heading(ctx.admin, 'Lead Matching Strategies'), 'the administrator\'s first page');
      await checkPage(ctx.admin, 'console');
    },
  },
  {
    name: 'Create a field mapping',
    needs: ['Sign in'],
    async run() {
      const page = ctx.admin;
      await openMenu(page, 'Field Mappings');
      await checkPage(page, 'field-mappings');
      const field = await fillOrSelect(page, 'LinkedIn field', NAMES.mapping);
      await fillOrSelect(page, 'Lead field', MAPPING_LEAD_FIELD);
      await button(page, 'Add').click();
      const remove = await visible(page, button(page, `Delete ${field}`), `the new mapping's "Delete ${field}" button`);
      await checkPage(page, 'field-mapping-added');
      await remove.click();
      const confirm = await dialog(page);
      await checkPage(page, 'delete-mapping-confirmation');
      await button(confirm, 'Delete').click();
      await gone(page, button(page, `Delete ${field}`), `the deleted mapping ${field}`);
      await checkPage(page, 'field-mapping-deleted');
    },
  },
  {
    name: 'Create a lead matching strategy',
    needs: ['Sign in'],
    async run() {
      const page = ctx.admin;
      await openMenu(page, 'Lead Matching Strategies');
      await checkPage(page, 'strategies');
      await button(page, 'New').click();
      const form = await visible(page, page.getByRole('form', { name: 'New lead matching strategy' }), 'the new strategy form');
      await form.getByRole('textbox', { name: 'Name', exact: true }).fill(NAMES.strategy);
      await checkPage(page, 'new-strategy');
      await button(form, 'Save').click();
      await visible(page, heading(page, NAMES.strategy), 'the new strategy\'s page');
      ctx.strategyUrl = page.url();
      await checkPage(page, 'strategy');
      for (const field of STRATEGY_FIELDS) {
        await page.getByLabel('LinkedIn field to match', { exact: true }).selectOption(field);
        await button(page, 'Add').click();
        await visible(page, button(page, `Remove ${field}`), `the added field ${field}`);
      }
      await checkPage(page, 'strategy-fields');
    },
  },
  {
    name: 'Preview a lead matching strategy',
    needs: ['Create a lead matching strategy'],
    async run() {
      const page = ctx.admin;
      await button(page, 'Preview').click();
      // Before any sync there is nothing to preview: the empty state says so.
      const table = page.getByRole('table', { name: /What this strategy would do/ });
      const empty = page.getByText(/No submissions to preview yet/);
      await visible(page, table.or(empty), 'the preview (a table or its empty state)');
      const rows = (await table.count()) ? await table.locator('tbody tr').count() : 0;
      console.log(`NOTE preview: ${rows ? `${rows} submissions` : 'the empty state'}`);
      await checkPage(page, 'preview');
    },
  },
  {
    name: 'Activate a lead matching strategy',
    needs: ['Create a lead matching strategy'],
    async run() {
      const page = ctx.admin;
      await button(page, 'Activate').click();
      const notice = await visible(page, page.getByRole('status').filter({ hasText: 'is now the active strategy' }), 'the activation message');
      const text = (await notice.innerText()).trim();
      if (!/\binactive\b/.test(text)) throw new Error(`the activation message names no strategy that became inactive: "${text}"`);
      await gone(page, button(page, 'Activate'), 'the "Activate" button of the active strategy');
      await visible(page, page.getByText('Active', { exact: true }), 'the "Active" badge');
      await checkPage(page, 'strategy-activated');
      await openMenu(page, 'Lead Matching Strategies');
      const table = await visible(page, page.getByRole('table', { name: 'Lead matching strategies' }), 'the strategies table');
      const active = table.locator('tbody tr').filter({ has: page.getByText('Active', { exact: true }) });
      const count = await active.count();
      if (count !== 1) throw new Error(`the list shows ${count} active strategies, not 1`);
      const name = (await active.getByRole('link').innerText()).trim();
      if (name !== NAMES.strategy) throw new Error(`the active strategy in the list is "${name}", not "${NAMES.strategy}"`);
      await checkPage(page, 'strategies-one-active');
    },
  },
  {
    name: 'Delete a lead matching strategy',
    needs: ['Activate a lead matching strategy'],
    async run() {
      const page = ctx.admin;
      // The active one: refused, with the server's reason beside the button.
      await page.getByRole('link', { name: NAMES.strategy, exact: true }).click();
      await visible(page, heading(page, NAMES.strategy), 'the active strategy\'s page');
      await button(page, 'Delete').click();
      let confirm = await dialog(page);
      await checkPage(page, 'delete-active-confirmation');
      await button(confirm, 'Delete').click();
      await visible(page, page.getByRole('alert').filter({ hasText: 'cannot be deleted' }), 'the refusal to delete the active strategy');
      await visible(page, heading(page, NAMES.strategy), 'the active strategy\'s page after the refusal');
      await checkPage(page, 'delete-refused');
      // An inactive one (made for the purpose): gone from the list.
      await openMenu(page, 'Lead Matching Strategies');
      await button(page, 'New').click();
      const form = await visible(page, page.getByRole('form', { name: 'New lead matching strategy' }), 'the new strategy form');
      await form.getByRole('textbox', { name: 'Name', exact: true }).fill(NAMES.throwaway);
      await button(form, 'Save').click();
      await visible(page, heading(page, NAMES.throwaway), 'the throwaway strategy\'s page');
      await button(page, 'Delete').click();
      confirm = await dialog(page);
      await button(confirm, 'Delete').click();
      await visible(page, heading(page, 'Lead Matching Strategies'), 'the list after deleting');
      await visible(page, page.getByRole('link', { name: NAMES.strategy, exact: true }), 'the list of strategies');
      await gone(page, page.getByRole('link', { name: NAMES.throwaway, exact: true }), 'the deleted strategy in the list');
      await checkPage(page, 'strategy-deleted');
    },
  },
  {
    name: 'Create a LinkedIn user profile',
    async run() {
      ctx.sales = watch(await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage(), 'salesperson');
      const page = ctx.sales;
      await signIn(page, salesToken);
      await openMenu(page, 'User Profiles');
      await checkPage(page, 'profiles');
      await button(page, 'New').click();
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill(NAMES.profile);
      await checkPage(page, 'new-profile');
      await button(page, 'Save').click();
      await visible(page, heading(page, NAMES.profile), 'the new profile\'s page');
      ctx.profileUrl = page.url();
      await checkPage(page, 'profile');
    },
  },
  {
    name: 'Authorize a LinkedIn user profile',
    needs: ['Create a LinkedIn user profile'],
    async run() {
      const page = ctx.sales;
      await button(page, 'Authorize').click();
      await page.waitForURL((url) => !url.href.startsWith(base), { timeout: 15_000 }).catch(() => {
        throw new Error(`"Authorize" did not take the browser to LinkedIn (still at ${page.url()})`);
      });
      await visible(page, page.getByRole('heading', { level: 1, name: 'Sign in', exact: true }), 'LinkedIn\'s sign-in page');
      await checkPage(page, 'linkedin-sign-in');
      await page.getByLabel('Password', { exact: true }).fill(SANDBOX_PASSWORD);
      await button(page, 'Sign in').click();
      await visible(page, page.getByRole('heading', { level: 1, name: /would like to/ }), 'LinkedIn\'s permissions page');
      await checkPage(page, 'linkedin-permissions');
      await button(page, 'Allow').click();
      // LinkedIn → /oauth/linkedin/callback → (at once) the profile's page in the console.
      const profilePath = new URL(ctx.profileUrl).hash;
      await page.waitForURL((url) => url.href.startsWith(consoleUrl) && url.hash === profilePath, { timeout: 20_000 }).catch(async () => {
        const text = (await page.locator('body').innerText().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
        throw new Error(`not back on the profile's page (${profilePath}) but at ${page.url()}: ${text}`);
      });
      await visible(page, heading(page, NAMES.profile), 'the profile\'s page after the authorization');
      const accounts = page.getByRole('table', { name: 'Associated LinkedIn accounts' });
      await visible(page, accounts.locator('tbody tr'), 'the associated LinkedIn accounts', ACCOUNTS_TIMEOUT_MS);
      const rows = await accounts.locator('tbody tr').count();
      console.log(`NOTE associated accounts: ${rows}`);
      await visible(page, page.getByRole('checkbox', { name: /^Sync / }), 'a "Sync {account name}" checkbox');
      await checkPage(page, 'profile-authorized');
    },
  },
  {
    name: 'Sync submissions',
    needs: ['Authorize a LinkedIn user profile'],
    async run() {
      const page = ctx.sales;
      // The bar may come and go quickly: watch the page for it from before the click.
      await page.evaluate(() => {
        window.__progressNames = [];
        const look = () => {
          for (const bar of document.querySelectorAll('progress, [role=progressbar]')) {
            const byId = (bar.getAttribute('aria-labelledby') ?? '')
              .split(/\s+/)
              .map((id) => document.getElementById(id)?.textContent ?? '')
              .join(' ');
            const name = (bar.getAttribute('aria-label') || byId || [...(bar.labels ?? [])].map((l) => l.textContent).join(' ')).trim();
            if (!window.__progressNames.includes(name)) window.__progressNames.push(name);
          }
        };
        window.__progressObserver = new MutationObserver(look);
        window.__progressObserver.observe(document.body, { childList: true, subtree: true, attributes: true });
        look();
      });
      await button(page, 'Sync submissions').click();
      await visible(page, page.getByRole('status').filter({ hasText: /Sync finished/ }), 'the sync\'s outcome message', SYNC_TIMEOUT_MS);
      const names = await page.evaluate(() => {
        window.__progressObserver?.disconnect();
        return window.__progressNames;
      });
      if (!names.some((n) => n.includes('Sync progress'))) {
        throw new Error(`no progress bar named "Sync progress" appeared during the sync (seen: ${JSON.stringify(names)})`);
      }
      const outcome = await page.getByRole('status').filter({ hasText: /Sync finished/ }).first().innerText();
      console.log(`NOTE sync outcome: ${outcome.replace(/\s+/g, ' ').trim()}`);
      await checkPage(page, 'profile-synced');
      await openMenu(page, 'Leads');
      const links = page.getByRole('main').getByRole('table').first().locator('tbody').getByRole('link');
      await visible(page, links, 'leads in the list');
      console.log(`NOTE leads on the first page: ${await links.count()}`);
      await checkPage(page, 'leads');
    },
  },
  {
    name: 'View a lead\'s LinkedIn Lead Info',
    needs: ['Sync submissions'],
    async run() {
      const page = ctx.sales;
      const link = page.getByRole('main').getByRole('table').first().locator('tbody').getByRole('link').first();
      const name = (await link.innerText()).trim();
      await link.click();
      await page.waitForURL((url) => /^#\/leads\/[^/?]+/.test(url.hash));
      const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2].split('?')[0]);
      await visible(page, page.getByRole('tab', { name: 'Summary', exact: true }), `the lead page of ${name}`);
      await checkPage(page, 'lead');
      await page.getByRole('tab', { name: 'LinkedIn Lead Info', exact: true }).click();
      await visible(page, page.getByRole('tab', { name: 'LinkedIn Lead Info', exact: true, selected: true }), 'the selected "LinkedIn Lead Info" tab');
      const panel = await visible(page, page.getByRole('tabpanel', { name: 'LinkedIn Lead Info', exact: true }), 'the "LinkedIn Lead Info" tab panel');
      // What the page must show: the answers of the lead's latest submission, as the API has them.
      const answer = await graphql(page, salesToken, `query ($id: ID!) { lead(id: $id) {
        submissions(first: 1) { edges { node { answers { questionText value } } } } } }`, { id });
      const answers = answer.data?.lead?.submissions?.edges?.[0]?.node?.answers ?? [];
      if (!answers.length) throw new Error(`lead ${id} has no submission with answers in the API: ${JSON.stringify(answer).slice(0, 300)}`);
      const norm = (t) => t.replace(/\s+/g, ' ').trim().toLowerCase();
      const deadline = Date.now() + ACTION_TIMEOUT_MS;
      let missing = answers;
      while (Date.now() < deadline) {
        const text = norm(await panel.innerText());
        missing = answers.filter((a) => !text.includes(norm(a.questionText)) || !text.includes(norm(a.value)));
        if (missing.length === 0) break;
        await sleep(200);
      }
      if (missing.length) {
        throw new Error(`the tab lacks ${missing.length} of the ${answers.length} answers of the latest submission, e.g. "${missing[0].questionText}" → "${missing[0].value}"`);
      }
      console.log(`NOTE lead ${id}: ${answers.length} answers shown`);
      await checkPage(page, 'lead-linkedin-lead-info');
    },
  },
  {
    name: 'Download leads',
    needs: ['Sync submissions'],
    async run() {
      const page = ctx.sales;
      // A search term of the API's first lead (its last name, else its email's local part).
      const first = await graphql(page, salesToken, '{ leads(first: 1) { edges { node { lastName email } } } }');
      const lead = first.data?.leads?.edges?.[0]?.node;
      if (!lead) throw new Error(`no lead in the API: ${JSON.stringify(first).slice(0, 300)}`);
      const word = (lead.lastName ?? '').trim().split(/\s+/)[0];
      const term = (word.length >= 3 ? word : lead.email.split('@')[0]).toLowerCase();
      // What the file must hold: the API's leads with the same search, newest first.
      const expected = [];
      let after = null;
      for (;;) {
        const answer = await graphql(page, salesToken, `query ($after: String, $search: String) {
          leads(first: 100, after: $after, filter: { search: $search }) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { after, search: term });
        const leads = answer.data?.leads;
        if (!leads) throw new Error(`leads(search) failed: ${JSON.stringify(answer).slice(0, 300)}`);
        expected.push(...leads.edges.map((e) => e.node.id));
        if (!leads.pageInfo.hasNextPage) break;
        after = leads.pageInfo.endCursor;
      }
      if (!expected.length) throw new Error(`the API finds no lead for "${term}"`);
      await openMenu(page, 'Leads');
      await visible(page, page.getByRole('main').getByRole('table').first().locator('tbody').getByRole('link'), 'leads in the list');
      await page.getByRole('searchbox', { name: 'Search', exact: true }).fill(term);
      await page.waitForURL((url) => new URLSearchParams(url.hash.split('?')[1] ?? '').get('q') === term, { timeout: ACTION_TIMEOUT_MS }).catch(() => {
        throw new Error(`the search "${term}" did not reach the URL (${page.url()})`);
      });
      // The list shows the search's leads (so the page's filter is the search) before the click.
      const count = `${expected.length} lead${expected.length === 1 ? '' : 's'}`;
      await visible(page, page.getByRole('status').filter({ hasText: new RegExp(`^${count}$`) }), `the count "${count}" of the searched leads`);
      await checkPage(page, 'leads-searched');
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: ACTION_TIMEOUT_MS }),
        button(page, 'Download CSV').click(),
      ]);
      const file = download.suggestedFilename();
      if (!/^leads-\d{8}\.csv$/.test(file)) throw new Error(`the download is named "${file}", not leads-YYYYMMDD.csv`);
      const failure = await download.failure();
      if (failure) throw new Error(`the download failed: ${failure}`);
      let text = readFileSync(await download.path(), 'utf8');
      if (!text.startsWith('\ufeff')) throw new Error('the CSV does not start with a byte order mark');
      text = text.slice(1);
      const rows = parseCsv(text);
      const header = rows.shift() ?? [];
      const want = ['id', 'firstName', 'lastName', 'email'];
      if (want.some((name, i) => header[i] !== name) || !header.includes('company')) {
        throw new Error(`the header row is ${JSON.stringify(header.slice(0, 6))}…`);
      }
      const at = (name) => header.indexOf(name);
      const ids = rows.map((r) => r[at('id')]);
      if (JSON.stringify(ids) !== JSON.stringify(expected)) {
        throw new Error(`the file has leads ${JSON.stringify(ids.slice(0, 10))} (${ids.length}), the API ${JSON.stringify(expected.slice(0, 10))} (${expected.length})`);
      }
      for (const row of rows) {
        const words = ['firstName', 'lastName', 'email', 'company'].map((n) => row[at(n)] ?? '').join(' ').toLowerCase();
        if (!words.includes(term)) throw new Error(`lead ${row[at('id')]} in the file does not match "${term}": ${words}`);
      }
      console.log(`NOTE downloaded ${file}: ${rows.length} leads matching "${term}"`);
      await visible(page, page.getByRole('status').filter({ hasText: 'The CSV download has started.' }), 'the "download has started" message');
      await checkPage(page, 'leads-downloaded');
      // Form Submissions says what a form's CSV holds.
      await openMenu(page, 'Form Submissions');
      await fillOrSelect(page, 'Form', '');
      await visible(page, page.getByText('CSV: one column per question of this form.', { exact: true }), 'the note on a form\'s CSV');
      await visible(page, button(page, 'Download NDJSON'), 'the "Download NDJSON" button on Form Submissions');
      await checkPage(page, 'submissions-of-a-form');
    },
  },
  {
    name: 'Download a lead\'s personal data',
    needs: ['Sign in', 'Sync submissions'],
    async run() {
      const page = ctx.admin;
      // A synced lead with submissions: its file must hold them, as the API's export has them.
      const first = await graphql(page, adminToken, `{ leads(first: 1, filter: { source: LINKEDIN_SPONSORED_CONTENT }) {
        edges { node { id email submissionCount } } } }`);
      const lead = first.data?.leads?.edges?.[0]?.node;
      if (!lead) throw new Error(`no synced lead in the API: ${JSON.stringify(first).slice(0, 300)}`);
      const url = new URL(page.url());
      url.hash = `#/leads/${encodeURIComponent(lead.id)}`;
      await page.goto(url.toString());
      await visible(page, page.getByRole('tab', { name: 'Summary', exact: true }), `the lead page of lead ${lead.id}`);
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: ACTION_TIMEOUT_MS }),
        button(page, 'Download personal data').click(),
      ]);
      const file = download.suggestedFilename();
      if (file !== `lead-${lead.id}-personal-data.json`) throw new Error(`the download is named "${file}"`);
      const failure = await download.failure();
      if (failure) throw new Error(`the download failed: ${failure}`);
      const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
      const api = await graphql(page, adminToken, 'query ($id: ID!) { exportLeadPersonalData(leadId: $id) }', { id: lead.id });
      const expected = api.data?.exportLeadPersonalData;
      if (!expected) throw new Error(`exportLeadPersonalData failed: ${JSON.stringify(api).slice(0, 300)}`);
      if (exported.format !== expected.format) throw new Error(`the file's format is ${exported.format}, the API's ${expected.format}`);
      const held = (doc) => JSON.stringify((doc.leads ?? []).map((l) => [l.id, l.fields?.email ?? null,
        (l.submissions ?? []).map((s) => [s.linkedInResponseId, (s.answers ?? []).length])]));
      if (held(exported) !== held(expected)) {
        throw new Error(`the file holds ${held(exported).slice(0, 300)}, the API ${held(expected).slice(0, 300)}`);
      }
      const submissions = exported.leads[0]?.submissions ?? [];
      if (submissions.length !== lead.submissionCount || submissions.length === 0) {
        throw new Error(`the file has ${submissions.length} submissions, the lead ${lead.submissionCount}`);
      }
      console.log(`NOTE downloaded ${file}: ${submissions.length} submissions (${exported.format})`);
      await visible(page, page.getByText(`Downloaded ${file}.`, { exact: true }), 'the "Downloaded" message');
      await checkPage(page, 'lead-personal-data');
    },
  },
  {
    name: 'Drill into form submissions',
    needs: ['Sync submissions'],
    async run() {
      const page = ctx.sales;
      await openMenu(page, 'Form Submissions');
      const links = page.getByRole('main').getByRole('table').first().locator('tbody').getByRole('link');
      await visible(page, links, 'submissions in the list');
      await checkPage(page, 'submissions');
      await links.first().click();
      await page.waitForURL((url) => /^#\/submissions\/[^/?]+/.test(url.hash));
      await settle(page);
      await visible(page, page.getByRole('main').locator('a[href^="#/leads/"]'), 'the link to the submission\'s lead');
      await checkPage(page, 'submission');
    },
  },
  {
    name: 'Register an outbound webhook',
    needs: ['Sign in', 'Sync submissions'],
    async run() {
      const page = ctx.admin;
      if (!receiver.server) await startReceiver();
      const url = `${receiver.base}/hooks/ok`;
      const failingUrl = `${receiver.base}/hooks/failing`;
      const table = page.getByRole('table', { name: /^Deliveries to / });
      await openMenu(page, 'Webhooks');
      await checkPage(page, 'webhooks');

      // New → Save: the signing secret, shown once.
      await button(page, 'New').click();
      let form = await visible(page, page.getByRole('form', { name: 'New webhook endpoint' }), 'the new webhook endpoint form');
      await form.getByRole('textbox', { name: 'URL', exact: true }).fill(url);
      await form.getByRole('textbox', { name: 'Description', exact: true }).fill(NAMES.webhook);
      for (const type of ['Lead created', 'Lead updated']) await form.getByRole('checkbox', { name: type, exact: true }).check();
      await checkPage(page, 'new-webhook');
      await button(form, 'Save').click();
      await visible(page, button(page, 'Copy secret'), 'the "Copy secret" button of the new signing secret');
      await visible(page, page.getByText(/it will not be shown again/), 'the words that the secret will not be shown again');
      const secrets = await shownSecrets(page);
      if (secrets.length !== 1) throw new Error(`expected the new secret shown once on the page, found ${secrets.length}`);
      receiver.secrets.push(secrets[0]);
      await checkPage(page, 'webhook-secret');
      await button(page, 'Done').click();
      await gone(page, button(page, 'Copy secret'), 'the secret after "Done"');
      if ((await shownSecrets(page)).length) throw new Error('the secret is still on the page after "Done"');

      // Send test: a signed webhook.test, answered 200, in words.
      await (await visible(page, page.getByRole('link', { name: url, exact: true }), `the link to ${url}`)).click();
      await visible(page, heading(page, NAMES.webhook), 'the endpoint\'s page');
      await visible(page, page.getByText(/No deliveries yet/), 'the empty delivery log');
      await checkPage(page, 'webhook');
      await button(page, 'Send test').click();
      const passed = await visible(page, page.getByRole('status').filter({ hasText: /The test succeeded: the endpoint answered 200/ }), 'the test\'s success message');
      const tests = receiver.requests.filter((r) => r.type === 'webhook.test');
      if (tests.length !== 1 || tests[0].signedWith !== 0 || !tests[0].id.startsWith('msg_test_')) {
        throw new Error(`the receiver got ${JSON.stringify(tests)}, not one webhook.test signed with the shown secret`);
      }
      if (!(await passed.innerText()).includes(tests[0].id)) throw new Error(`the test's message does not name its webhook-id ${tests[0].id}`);
      await checkPage(page, 'webhook-tested');

      // A second endpoint, whose receiver fails: disabled after failing, flagged, then deleted.
      await openMenu(page, 'Webhooks');
      await button(page, 'New').click();
      form = await visible(page, page.getByRole('form', { name: 'New webhook endpoint' }), 'the new webhook endpoint form');
      await form.getByRole('textbox', { name: 'URL', exact: true }).fill(failingUrl);
      await form.getByRole('textbox', { name: 'Description', exact: true }).fill(NAMES.failingWebhook);
      await form.getByRole('checkbox', { name: 'Lead updated', exact: true }).check();
      await button(form, 'Save').click();
      await (await visible(page, button(page, 'Done'), 'the failing endpoint\'s secret')).click();
      await visible(page, page.getByRole('link', { name: failingUrl, exact: true }), `the link to ${failingUrl}`);

      // An edit of a lead: a lead.updated event for both endpoints.
      await openMenu(page, 'Leads');
      await (await visible(page, page.getByRole('main').getByRole('table').first().locator('tbody').getByRole('link'), 'leads in the list')).click();
      await visible(page, page.getByRole('tab', { name: 'Summary', exact: true }), 'a lead\'s page');
      const leadId = decodeURIComponent(new URL(page.url()).hash.split('/')[2].split('?')[0]);
      await (await visible(page, button(page, 'Edit'), 'the lead\'s "Edit" button')).click();
      await page.getByRole('textbox', { name: 'Company', exact: true }).fill(`Webhook Test Company${run}`);
      await button(page, 'Save').click();
      await visible(page, page.getByRole('status').filter({ hasText: 'The lead is saved.' }), 'the "lead is saved" message');

      // The failing endpoint: flagged on the list and in the menu.
      await openMenu(page, 'Webhooks');
      await visible(page, menu(page).getByText(/1 disabled after failing/), 'the menu\'s warning about an endpoint disabled after failing', WEBHOOK_TIMEOUT_MS);
      const flag = await visible(page, page.getByRole('region', { name: 'An endpoint was disabled after failing' }), 'the list\'s warning about the disabled endpoint');
      if (!(await flag.innerText()).includes(failingUrl)) throw new Error('the warning does not name the failing endpoint\'s URL');
      await checkPage(page, 'webhook-disabled-after-failing');
      await flag.getByRole('link', { name: failingUrl, exact: true }).click();
      await visible(page, heading(page, NAMES.failingWebhook), 'the failing endpoint\'s page');
      await visible(page, page.getByRole('region', { name: 'Disabled after failing' }), 'the "Disabled after failing" notice on its page');
      await visible(page, table.locator('tbody tr').filter({ hasText: '503' }), 'the 503 in its delivery log');
      await checkPage(page, 'failing-webhook');
      await button(page, 'Delete').click();
      let confirm = await dialog(page);
      if (!(await confirm.innerText()).includes(failingUrl)) throw new Error('the delete confirmation does not name the URL');
      await checkPage(page, 'delete-webhook-confirmation');
      await button(confirm, 'Delete').click();
      await visible(page, heading(page, 'Webhooks'), 'the list after deleting');
      await gone(page, page.getByRole('link', { name: failingUrl, exact: true }), 'the deleted endpoint in the list');
      await gone(page, menu(page).getByText(/disabled after failing/), 'the menu\'s warning after deleting the failing endpoint');

      // The delivery log of the first: the edit's lead.updated, delivered; filtered; replayed.
      await page.getByRole('link', { name: url, exact: true }).click();
      await visible(page, heading(page, NAMES.webhook), 'the endpoint\'s page');
      const delivered = table.locator('tbody tr').filter({ hasText: 'lead.updated' }).filter({ hasText: `Lead ${leadId}` }).filter({ hasText: 'Succeeded' });
      await visible(page, delivered, `a succeeded lead.updated delivery of lead ${leadId} in the log`, WEBHOOK_TIMEOUT_MS);
      const webhookId = (await delivered.first().innerText()).match(/evt_\d+/)?.[0];
      if (!webhookId) throw new Error('the delivery shows no webhook-id');
      const received = () => receiver.requests.filter((r) => r.id === webhookId && r.path === '/hooks/ok');
      if (received().length !== 1 || received()[0].signedWith !== 0) throw new Error(`the receiver got ${webhookId} ${received().length} time(s), or unsigned`);
      await page.getByLabel('Status', { exact: true }).selectOption('SUCCEEDED');
      await page.waitForURL((u) => u.hash.includes('status=SUCCEEDED'), { timeout: ACTION_TIMEOUT_MS });
      await visible(page, table.locator('tbody tr').filter({ hasText: webhookId }), 'the delivery under the Succeeded filter');
      await checkPage(page, 'delivery-log');
      await button(table.locator('tbody tr').filter({ hasText: webhookId }), 'Replay').click();
      await visible(page, page.getByRole('status').filter({ hasText: `Delivery ${webhookId} is queued again` }), 'the replay\'s message');
      await until(() => received().length === 2, `the replayed ${webhookId} at the receiver`, WEBHOOK_TIMEOUT_MS);
      await until(async () => {
        const cells = await table.locator('tbody tr').filter({ hasText: webhookId }).locator('td').allInnerTexts().catch(() => []);
        return cells.length > 4 && cells[3].includes('Succeeded') && cells[4].trim() === '2';
      }, `the replayed delivery shown succeeded after 2 attempts`, WEBHOOK_TIMEOUT_MS);
      await checkPage(page, 'delivery-replayed');

      // Rotate secret: the new one shown once, and the next test is signed with it.
      await button(page, 'Rotate secret').click();
      confirm = await dialog(page);
      await checkPage(page, 'rotate-secret-confirmation');
      await button(confirm, 'Rotate secret').click();
      await visible(page, button(page, 'Copy secret'), 'the "Copy secret" button of the new secret');
      const rotated = await shownSecrets(page);
      if (rotated.length !== 1 || rotated[0] === receiver.secrets[0]) throw new Error('expected one new secret shown after rotating');
      receiver.secrets.push(rotated[0]);
      await button(page, 'Done').click();
      await button(page, 'Send test').click();
      await visible(page, page.getByRole('status').filter({ hasText: /The test succeeded/ }), 'the test\'s success message after rotating');
      const last = receiver.requests.filter((r) => r.type === 'webhook.test').at(-1);
      if (last?.signedWith !== 1) throw new Error('the test after rotating is not signed with the new secret');

      // Disable, then Enable.
      await button(page, 'Disable').click();
      confirm = await dialog(page);
      await button(confirm, 'Disable').click();
      await visible(page, page.getByRole('status').filter({ hasText: 'The endpoint is disabled.' }), 'the "disabled" message');
      await (await visible(page, button(page, 'Enable'), 'the "Enable" button')).click();
      await visible(page, page.getByRole('status').filter({ hasText: /The endpoint is enabled/ }), 'the "enabled" message');
      await visible(page, button(page, 'Disable'), 'the "Disable" button again');
      await checkPage(page, 'webhook-enabled');
      // Edit opens the same form with what is registered; Cancel leaves it as it is.
      await button(page, 'Edit').click();
      const edit = await visible(page, page.getByRole('form', { name: `Edit ${url}` }), 'the edit form');
      if ((await edit.getByRole('textbox', { name: 'URL', exact: true }).inputValue()) !== url) throw new Error('the edit form does not hold the URL');
      if (!(await edit.getByRole('checkbox', { name: 'Lead updated', exact: true }).isChecked())) throw new Error('the edit form does not hold the event types');
      await checkPage(page, 'webhook-edit');
      await button(edit, 'Cancel').click();
      await gone(page, page.getByRole('form', { name: `Edit ${url}` }), 'the edit form after "Cancel"');
      console.log(`NOTE webhook receiver: ${receiver.requests.length} requests`);
    },
  },
  {
    name: 'Turn off customer journeys',
    needs: ['Sign in'],
    async run() {
      const page = ctx.admin;
      await openMenu(page, 'Integration Configuration');
      await checkPage(page, 'configuration');
      const box = await visible(page, page.getByRole('checkbox', { name: 'Create Journeys for LinkedIn Campaigns', exact: true }), 'the journeys checkbox');
      if (!(await box.isChecked())) {
        // Not the default (a second run against the same server): switch them on first.
        console.log('NOTE journeys were already off: switching them on first');
        await box.check();
        await button(page, 'Save').click();
        await visible(page, page.getByRole('status').filter({ hasText: /saved/i }), 'the "saved" message');
      }
      await box.uncheck();
      await button(page, 'Save').click();
      await visible(page, page.getByRole('status').filter({ hasText: /saved/i }), 'the "saved" message');
      await checkPage(page, 'configuration-saved');
      await page.reload({ waitUntil: 'load' });
      await visible(page, heading(page, 'Integration Configuration'), 'the configuration after reloading');
      const again = await visible(page, page.getByRole('checkbox', { name: 'Create Journeys for LinkedIn Campaigns', exact: true }), 'the journeys checkbox after reloading');
      await settle(page);
      if (await again.isChecked()) throw new Error('after a reload the journeys checkbox is checked again');
      await openMenu(page, 'Customer Journeys');
      await checkPage(page, 'journeys');
      const there = page.getByRole('checkbox', { name: 'Create Journeys for LinkedIn Campaigns', exact: true });
      if ((await there.count()) && (await there.isChecked())) throw new Error('Customer Journeys shows the switch still on');
    },
  },
  {
    name: 'Salesperson sees no administrator menus',
    needs: ['Create a LinkedIn user profile'],
    async run() {
      const page = ctx.sales;
      const nav = menu(page);
      for (const label of ['Lead Matching Strategies', 'Field Mappings', 'Integration Configuration', 'Webhooks', 'Users']) {
        if (await nav.getByRole('link', { name: label, exact: true }).count()) throw new Error(`the salesperson's menu has "${label}"`);
      }
      for (const label of ['User Profiles', 'Form Submissions', 'Customer Journeys', 'Leads']) {
        if (!(await nav.getByRole('link', { name: label, exact: true }).count())) throw new Error(`the salesperson's menu lacks "${label}"`);
      }
      await page.goto(`${consoleUrl}#/strategies`);
      await visible(page, page.getByRole('alert').filter({ hasText: /roles do not allow/ }), 'the not-allowed message on #/strategies');
      await checkPage(page, 'strategies-not-allowed');
      const answer = await graphql(page, salesToken, '{ leadMatchingStrategies { id name } }');
      const code = answer.errors?.[0]?.extensions?.code;
      if (code !== 'FORBIDDEN') throw new Error(`leadMatchingStrategies with the salesperson's token answered ${JSON.stringify(answer).slice(0, 300)}`);
    },
  },
  {
    name: 'Create a user and revoke its token',
    async run() {
      const page = watch(await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage(), 'system administrator');
      ctx.system = page;
      await signIn(page, systemToken);
      await openMenu(page, 'Users');
      await checkPage(page, 'users');
      await button(page, 'New').click();
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill(NAMES.user);
      await page.getByRole('checkbox', { name: 'Leadgen salesperson', exact: true }).check();
      await checkPage(page, 'new-user');
      await button(page, 'Save').click();
      await visible(page, button(page, 'Copy token'), 'the "Copy token" button of the new token');
      const shown = await page.getByRole('main').innerText();
      const tokens = [...new Set(shown.match(/lsk_[A-Za-z0-9_-]{20,}/g) ?? [])];
      if (tokens.length !== 1) throw new Error(`expected the new token shown once on the page, found ${tokens.length}`);
      const [token] = tokens;
      await checkPage(page, 'user-created');
      const before = await graphql(page, token, '{ viewer { name roles } }');
      if (before.data?.viewer?.name !== NAMES.user) throw new Error(`the new token does not work: ${JSON.stringify(before).slice(0, 300)}`);
      // The user's own controls open below the table with "Manage {name}".
      await (await visible(page, button(page, `Manage ${NAMES.user}`), `the "Manage ${NAMES.user}" button`)).click();
      await visible(page, page.getByRole('group', { name: `Roles of ${NAMES.user}` }), `the roles of ${NAMES.user}`);
      // The innermost part of the page that names the user and has a "Revoke" button: its tokens.
      const block = page
        .locator('section, article, li, tr, details, fieldset, div')
        .filter({ hasText: NAMES.user })
        .filter({ has: button(page, 'Revoke') })
        .last();
      const revoke = await visible(page, button(block, 'Revoke'), `a "Revoke" button for ${NAMES.user}'s token`);
      await revoke.click();
      const confirm = await dialog(page);
      await checkPage(page, 'revoke-confirmation');
      await button(confirm, 'Revoke').click();
      await gone(page, page.getByRole('dialog'), 'the revoke confirmation');
      const deadline = Date.now() + ACTION_TIMEOUT_MS;
      let after = null;
      while (Date.now() < deadline) {
        after = await graphql(page, token, '{ viewer { name } }');
        if (after.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') break;
        await sleep(200);
      }
      if (after?.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED') {
        throw new Error(`the revoked token still answers: ${JSON.stringify(after).slice(0, 300)}`);
      }
      await checkPage(page, 'token-revoked');
    },
  },
  {
    name: 'Read the audit log',
    needs: ['Create a user and revoke its token'],
    async run() {
      const page = ctx.system;
      await openMenu(page, 'Audit log');
      const table = page.getByRole('table', { name: /^Audit log/ });
      await visible(page, table.locator('tbody tr'), 'entries in the audit log');
      await checkPage(page, 'audit-log');
      // A text input with suggestions (a datalist): its role is combobox.
      await page.getByLabel('Operation', { exact: true }).fill('revokeApiToken');
      const deadline = Date.now() + ACTION_TIMEOUT_MS;
      let operations = [];
      while (Date.now() < deadline) {
        operations = await table.locator('tbody tr td:nth-child(3)').allInnerTexts().catch(() => []);
        if (operations.length && operations.every((o) => o.trim() === 'revokeApiToken')) break;
        await sleep(200);
      }
      if (!operations.length || !operations.every((o) => o.trim() === 'revokeApiToken')) {
        throw new Error(`filtered by the operation revokeApiToken, the log shows ${JSON.stringify([...new Set(operations)])}`);
      }
      if (!new URL(page.url()).hash.includes('operation=revokeApiToken')) throw new Error(`the filter is not in the URL: ${page.url()}`);
      await checkPage(page, 'audit-log-revocations');
    },
  },
];

async function main() {
  if (!base || !adminToken || !salesToken || !systemToken || !shotDir) {
    await abort('usage: console.mjs <base url> <admin token> <salesperson token> <system token> <screenshot dir>');
  }
  const hardStop = setTimeout(() => abort(`gave up after ${HARD_TIMEOUT_MS / 1000} s`), HARD_TIMEOUT_MS);
  for (const [kind, name] of Object.entries(NAMES)) console.log(`NAME ${kind} ${name}`);
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    await abort(`playwright-core cannot be loaded (set NODE_PATH): ${e.message}`);
  }
  if (!axeSource) await abort('axe-core cannot be loaded (install axe-core@4 next to playwright-core)');
  mkdirSync(shotDir, { recursive: true });
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: FLAGS,
      timeout: 30_000,
    });
  } catch (e) {
    await abort(`Chromium did not start: ${e.message}`);
  }

  const passed = new Set();
  for (const procedure of procedures) {
    current = procedure.name;
    const missing = (procedure.needs ?? []).filter((n) => !passed.has(n));
    if (missing.length) {
      failures += 1;
      console.log(`FAIL ${procedure.name}: not run: ${missing.join(', ')} failed`);
      continue;
    }
    const errorsBefore = consoleErrors.length;
    const started = Date.now();
    try {
      await procedure.run();
      const errors = consoleErrors.slice(errorsBefore);
      if (errors.length) throw new Error(`the browser reported ${errors.length} error(s), the first: ${errors[0]}`);
      passed.add(procedure.name);
      console.log(`PASS ${procedure.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failures += 1;
      console.log(`FAIL ${procedure.name}: ${String(e?.message ?? e).split('\n')[0]}`);
      for (const page of [ctx.admin, ctx.sales, ctx.system]) {
        if (!page || page.isClosed()) continue;
        shotCount += 1;
        const file = `${String(shotCount).padStart(2, '0')}-${slug(procedure.name)}-failed.png`;
        await page.screenshot({ path: join(shotDir, file), fullPage: true }).catch(() => {});
      }
    }
  }
  if (failures) for (const line of consoleErrors) console.log(`CONSOLE ${line}`);
  clearTimeout(hardStop);
  await closeBrowser();
  process.exit(failures ? 1 : 0);
}

process.on('SIGTERM', () => abort('stopped (SIGTERM)'));
main().catch((e) => abort(e?.stack ?? String(e)));
