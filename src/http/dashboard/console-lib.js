// leadsync console: what every page shares. The API client (GraphQL over HTTP, subscriptions over
// graphql-transport-ws), the session, the router, and a few components that give every page the
// same behaviour: errors in words next to what caused them, empty states that say what to do, and
// confirmations that name what will happen.
//
// Views are Preact components written with htm's tagged templates (no build step; see
// vendor/README.md). Everything reaches the server through the public GraphQL API only.

import { h, render as preactRender } from '/assets/preact.module.js';
import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
} from '/assets/preact-hooks.module.js';
import htm from '/assets/htm.module.js';

export const html = htm.bind(h);
export const render = preactRender;
export { useCallback, useEffect, useMemo, useRef, useState };

// ------------------------------------------------------------------ session
const TOKEN_KEY = 'leadsync.token';

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    window.dispatchEvent(new Event('leadsync:signed-out'));
  },
};

// ------------------------------------------------------------------ GraphQL over HTTP
export class ApiError extends Error {
  /** `code` is the server's `extensions.code` (or NETWORK / HTTP_<status>). */
  constructor(code, message, errors = []) {
    super(message);
    this.code = code;
    this.errors = errors;
  }
}

/** The words a person reads for an error: the code decides, the server's text explains. */
export function errorText(error) {
  if (!error) return '';
  switch (error.code) {
    case 'UNAUTHENTICATED':
      return 'Your session has ended or the token is no longer valid: sign in again.';
    case 'FORBIDDEN':
      // The server's own sentence says only that; a page's own message names the roles needed.
      return /^your roles do not allow/i.test(error.message ?? '')
        ? 'Your roles do not allow this.'
        : `Your roles do not allow this: ${error.message}`;
    case 'NOT_FOUND':
      return `Not found: ${error.message}. It may have been deleted.`;
    case 'BAD_USER_INPUT':
    case 'GRAPHQL_VALIDATION_FAILED':
      return error.message;
    case 'CONFLICT':
      return error.message;
    case 'RATE_LIMITED':
      return 'Too many requests: wait a moment and try again.';
    case 'NETWORK':
      return 'leadsync cannot be reached. Check the connection and try again.';
    case 'INTERNAL':
      return 'Something went wrong on the server. Try again; if it keeps happening, the server log says why.';
    default:
      return error.message || 'Something went wrong.';
  }
}

/** Runs one operation; resolves to `data` or throws an ApiError (the first error's code). */
export async function gql(query, variables = {}) {
  const token = session.token();
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('NETWORK', 'network error');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `the server answered ${response.status}`);
  }
  const errors = body?.errors ?? [];
  if (errors.length) {
    const first = errors[0];
    const code = first.extensions?.code ?? (response.status === 429 ? 'RATE_LIMITED' : 'ERROR');
    const error = new ApiError(code, first.message, errors);
    if (code === 'UNAUTHENTICATED') window.dispatchEvent(new Event('leadsync:unauthenticated'));
    throw error;
  }
  return body.data;
}

/**
 * Runs `query` now and whenever `variables` change (compared as JSON); `reload()` runs it again.
 * A `null` query runs nothing.
 */
export function useQuery(query, variables = {}) {
  const key = JSON.stringify(variables);
  const [state, setState] = useState({ data: null, error: null, loading: Boolean(query) });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!query) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    gql(query, JSON.parse(key)).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [query, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** `[run, { busy, error, reset }]`: `run(variables)` resolves to data, or to null after an error. */
export function useMutation(query) {
  const [state, setState] = useState({ busy: false, error: null });
  const run = useCallback(
    async (variables = {}) => {
      setState({ busy: true, error: null });
      try {
        const data = await gql(query, variables);
        setState({ busy: false, error: null });
        return data;
      } catch (error) {
        setState({ busy: false, error });
        return null;
      }
    },
    [query],
  );
  const reset = useCallback(() => setState({ busy: false, error: null }), []);
  return [run, { ...state, reset }];
}

// ------------------------------------------------------------------ subscriptions
let wsClient = null;

function client() {
  if (!wsClient) {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
    wsClient = window.graphqlWs.createClient({
      url,
      connectionParams: () => ({ authorization: `Bearer ${session.token()}` }),
      retryAttempts: Infinity,
      shouldRetry: () => true,
      lazy: true,
    });
  }
  return wsClient;
}

/** Follows a subscription; returns the function that stops it. */
export function subscribe(query, variables, onData, onError = () => {}) {
  return client().subscribe(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) {
          const first = result.errors[0];
          onError(new ApiError(first.extensions?.code ?? 'ERROR', first.message, result.errors));
        } else {
          onData(result.data);
        }
      },
      error: (error) => onError(new ApiError('NETWORK', String(error?.message ?? error))),
      complete: () => {},
    },
  );
}

/** Closes the subscription socket (sign-out: the next sign-in opens one with the new token). */
export function closeSubscriptions() {
  wsClient?.dispose();
  wsClient = null;
}

// ------------------------------------------------------------------ routing (#/path?query)
/** The current route: `{ path: ['leads', '42'], query: URLSearchParams }`. */
export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function href(path, query) {
  const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v != null)).toString() : '';
  return `#/${path}${q ? `?${q}` : ''}`;
}

export function navigate(path, query) {
  location.hash = href(path, query);
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

// ------------------------------------------------------------------ roles
export const ROLES = ['LEADGEN_ADMINISTRATOR', 'LEADGEN_SALESPERSON', 'S2S_INBOUND', 'SYSTEM_ADMINISTRATOR'];

/** Whether the viewer holds one of `roles` (system administrators hold every permission). */
export function hasRole(viewer, ...roles) {
  const held = viewer?.roles ?? [];
  return held.includes('SYSTEM_ADMINISTRATOR') || roles.some((r) => held.includes(r));
}

// ------------------------------------------------------------------ formatting
const numberFormat = new Intl.NumberFormat('en');
const dateTimeFormat = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });
export const fmtNumber = (n) => numberFormat.format(n ?? 0);
export const fmtDateTime = (iso) => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

/** SCREAMING_SNAKE_CASE → "Screaming snake case", with LinkedIn spelled right. */
export function humanize(value) {
  if (!value) return '';
  const text = String(value).toLowerCase().replaceAll('_', ' ');
  return (text.charAt(0).toUpperCase() + text.slice(1)).replace(/linkedin/gi, 'LinkedIn');
}

const TONES = {
  AUTHORIZED: 'good', REAUTHORIZING: 'warn', EXPIRED: 'bad', NOT_AUTHORIZED: 'bad',
  ACTIVE: 'good', SYNCING_ACCOUNTS: 'info', NOT_SYNCING: '', NO_ACCOUNTS_AVAILABLE: 'warn',
  PENDING: 'warn', FORBIDDEN: 'bad', NO_FORMS_AVAILABLE: 'warn',
  NEW_LEAD_CREATED: 'good', UPDATED_EXISTING_LEAD: 'info', MATCHED_NOT_UPDATED: '',
  MATCH_FAILED: 'bad', LEAD_CREATION_FAILED: 'bad', LEAD_UPDATE_FAILED: 'bad',
  SUCCEEDED: 'good', FAILED: 'bad', RUNNING: 'info', QUEUED: 'info', PARTIAL: 'warn',
  CREATED: 'good', UPDATED: 'info', UNCHANGED: '', INACTIVE: '',
  // Webhook deliveries (console-webhooks.js); SUCCEEDED, FAILED and PENDING are above.
  DELIVERING: 'info', SKIPPED: '',
};

export function Badge({ value, label }) {
  return html`<span class=${`badge ${TONES[value] ?? ''}`.trim()}>${label ?? humanize(value)}</span>`;
}

// ------------------------------------------------------------------ components
/**
 * A page: its `<h1>` takes the focus when the page opens (screen readers announce the new page),
 * `actions` sit beside the title.
 */
export function Page({ title, actions, children, back }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · leadsync console`;
    heading.current?.focus();
  }, [title]);
  return html`
    <section class="page" aria-labelledby="page-title">
      ${back && html`<p class="back"><a href=${back.href}>← ${back.label}</a></p>`}
      <div class="page-head">
        <h1 id="page-title" tabindex="-1" ref=${heading}>${title}</h1>
        ${actions && html`<div class="page-actions">${actions}</div>`}
      </div>
      ${children}
    </section>`;
}

/** An error in words, announced; renders nothing without one. */
export function Alert({ error, id }) {
  if (!error) return null;
  return html`<p class="alert" role="alert" id=${id}>${errorText(error)}</p>`;
}

/** A success or progress message, announced politely. */
export function Notice({ children }) {
  if (!children) return null;
  return html`<p class="notice" role="status">${children}</p>`;
}

/** What an empty list shows: what it is and what to do next. */
export function Empty({ children }) {
  return html`<div class="empty-state">${children}</div>`;
}

export function Loading({ what = 'Loading' }) {
  return html`<p class="loading" role="status">${what}…</p>`;
}

/**
 * A query's three states in one place: loading, its error (with Retry), or `children(data)`.
 */
export function Loaded({ query, children }) {
  if (query.error && !query.data) {
    return html`<div><${Alert} error=${query.error} />
      <button type="button" class="button secondary" onClick=${query.reload}>Retry</button></div>`;
  }
  if (!query.data) return html`<${Loading} />`;
  return children(query.data);
}

/**
 * A modal confirmation (`<dialog>`): states what will happen; resolves the promise with the
 * choice. Use through `useConfirm()`.
 */
export function useConfirm() {
  const [request, setRequest] = useState(null);
  const confirm = useCallback(
    (options) => new Promise((resolve) => setRequest({ ...options, resolve })),
    [],
  );
  const dialog = request
    ? html`<${ConfirmDialog} ...${request} onClose=${(ok) => {
        request.resolve(ok);
        setRequest(null);
      }} />`
    : null;
  return [confirm, dialog];
}

function ConfirmDialog({ title, body, confirmLabel = 'OK', danger = false, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
  }, []);
  return html`
    <dialog ref=${ref} class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-body"
            onCancel=${(e) => { e.preventDefault(); onClose(false); }}>
      <h2 id="confirm-title">${title}</h2>
      <div id="confirm-body">${body}</div>
      <div class="dialog-actions">
        <button type="button" class="button secondary" onClick=${() => onClose(false)}>Cancel</button>
        <button type="button" class=${`button ${danger ? 'danger' : 'primary'}`}
                onClick=${() => onClose(true)}>${confirmLabel}</button>
      </div>
    </dialog>`;
}

/** Forward/back paging over a Relay connection: keeps the cursors of the pages seen. */
export function usePaging() {
  const [cursors, setCursors] = useState([null]);
  const after = cursors[cursors.length - 1];
  return {
    after,
    page: cursors.length,
    next: (endCursor) => setCursors((c) => [...c, endCursor]),
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
    reset: () => setCursors([null]),
  };
}

export function Pager({ paging, pageInfo, label = 'Pages' }) {
  if (!pageInfo) return null;
  return html`
    <nav class="pager" aria-label=${label}>
      <button type="button" class="button secondary" disabled=${paging.page <= 1}
              onClick=${paging.previous}>Previous page</button>
      <span>Page ${paging.page}</span>
      <button type="button" class="button secondary" disabled=${!pageInfo.hasNextPage}
              onClick=${() => paging.next(pageInfo.endCursor)}>Next page</button>
    </nav>`;
}

/** A labelled control with its hint and error bound by aria-describedby. */
export function Field({ id, label, hint, error, children }) {
  const described = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      ${typeof children === 'function' ? children({ id, 'aria-describedby': described, 'aria-invalid': error ? 'true' : undefined }) : children}
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${error && html`<p class="field-error" id=${`${id}-error`} role="alert">${errorText(error)}</p>`}
    </div>`;
}

/** Downloads `value` as a JSON file named `name`. */
export function downloadJson(name, value) {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Copies text to the clipboard; resolves whether it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------ added by the leads /
// submissions / users pages engineer: URL-kept filters, debounced input, date conversions.
/** `value`, once it has stopped changing for `delay` ms (search boxes). */
export function useDebounced(value, delay = 300) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
  return settled;
}

/** Like `navigate`, without a new history entry (filters typed into a search box). */
export function replaceRoute(path, query) {
  location.replace(href(path, query));
}

/** `<input type="date">` value → the DateTime of that day's start (local time), or null. */
export function dayStartIso(date) {
  if (!date) return null;
  const d = new Date(`${date}T00:00:00`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** `<input type="date">` value → the DateTime of the next day's start: an inclusive "to" date. */
export function dayEndIso(date) {
  const start = dayStartIso(date);
  if (!start) return null;
  const d = new Date(`${date}T00:00:00`);
  d.setDate(d.getDate() + 1);
  return d.toISOString();
}

/** `<input type="datetime-local">` value → DateTime, or null. */
export function localDateTimeIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A connection's `totalCount` in words: counts stop at 1,000 for most filters (1,001 = more). */
export function countText(total, singular, plural = `${singular}s`) {
  if (total > 1000) return `More than 1,000 ${plural}`;
  return `${fmtNumber(total)} ${total === 1 ? singular : plural}`;
}

// ------------------------------------------------------------------ lead types (profiles/settings pages)
// Added by the engineer of the User Profiles, Customer Journeys, Integration Configuration and
// Field Mappings pages. Words for LinkedIn's lead types, one place for every page.
export const LEAD_TYPE_LABELS = {
  SPONSORED: 'sponsored leads (ads)',
  COMPANY: 'company page leads',
  ORGANIZATION_PRODUCT: 'product page leads',
  EVENT: 'event leads',
};

/** "Sponsored leads (ads)", "Company page leads", ...; `lower` keeps the first letter small. */
export function leadTypeLabel(type, lower = false) {
  const text = LEAD_TYPE_LABELS[type] ?? humanize(type).toLowerCase();
  return lower ? text : text.charAt(0).toUpperCase() + text.slice(1);
}

// ------------------------------------------------------------------ exports (Leads, Form Submissions)
// A file export streams from the server straight to disk: the page asks for a signed download
// link (`POST /export/links`, with the token), then points a hidden `<a download>` at it, which
// the browser downloads as any link, without the file passing through the page's memory.

/** A download link for the export at `path` with the query string `query`: `{ url, expiresAt }`. */
export async function exportLink(path, query) {
  const token = session.token();
  let response;
  try {
    response = await fetch('/export/links', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ path, query }),
    });
  } catch {
    throw new ApiError('NETWORK', 'network error');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP_${response.status}`, `the server answered ${response.status}`);
  }
  const first = body?.errors?.[0];
  if (first || !response.ok) {
    const code = first?.extensions?.code ?? (response.status === 429 ? 'RATE_LIMITED' : `HTTP_${response.status}`);
    if (code === 'UNAUTHENTICATED') window.dispatchEvent(new Event('leadsync:unauthenticated'));
    throw new ApiError(code, first?.message ?? `the server answered ${response.status}`, body?.errors ?? []);
  }
  return body;
}

/** Lets the browser download `url` (same origin: the server's file name is kept). */
function startDownload(url) {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * "Download CSV" and "Download NDJSON": the export `/export/{dataset}.{csv,ndjson}` with `params`
 * (the list's filter: the GraphQL filter's field names are the export's parameter names), through
 * a signed link. CSV starts with a byte order mark, so that spreadsheets read it as UTF-8.
 * `note` says what the files hold and `csvNote` what only the CSV does, beside the buttons; errors
 * show in an alert beside them.
 */
export function ExportButtons({ dataset, params, label, note, csvNote }) {
  const [state, setState] = useState({ busy: false, error: null, started: '' });
  const id = `export-${dataset}`;
  const download = async (format) => {
    setState({ busy: true, error: null, started: '' });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== null && value !== undefined && value !== '') query.set(name, String(value));
    }
    if (format === 'csv') query.set('bom', 'true');
    try {
      const { url } = await exportLink(`/export/${dataset}.${format}`, query.toString());
      startDownload(url);
      setState({ busy: false, error: null, started: `The ${format === 'csv' ? 'CSV' : 'NDJSON'} download has started.` });
    } catch (error) {
      setState({ busy: false, error, started: '' });
    }
  };
  const describe = (...ids) => ids.filter(Boolean).join(' ') || undefined;
  const error = state.error && `${id}-error`;
  return html`
    <div class="export-actions" role="group" aria-label=${label}>
      <div class="actions">
        <button type="button" class="button secondary" disabled=${state.busy}
                aria-describedby=${describe(note && `${id}-note`, csvNote && `${id}-csv-note`, error)}
                onClick=${() => download('csv')}>Download CSV</button>
        <button type="button" class="button secondary" disabled=${state.busy}
                aria-describedby=${describe(note && `${id}-note`, error)}
                onClick=${() => download('ndjson')}>Download NDJSON</button>
        ${note && html`<p class="hint" id=${`${id}-note`}>${note}</p>`}
        ${csvNote && html`<p class="hint" id=${`${id}-csv-note`}>${csvNote}</p>`}
      </div>
      <${Alert} error=${state.error} id=${`${id}-error`} />
      <${Notice}>${state.started}</${Notice}>
    </div>`;
}
