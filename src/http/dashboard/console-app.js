// leadsync console: the shell. Sign-in with an API token, the menu the viewer's roles allow (the
// server still decides every call; a warning badge beside Webhooks while an endpoint is disabled
// after failing), and the router from `#/<page>/<id>` to the pages.

import {
  Alert, Page, closeSubscriptions, gql, hasRole, html, render, session, useEffect, useRoute,
  useState,
} from '/assets/console-lib.js';
import { StrategiesPage, StrategyPage } from '/assets/console-strategies.js';
import { MappingsPage } from '/assets/console-mappings.js';
import { ProfilePage, ProfilesPage } from '/assets/console-profiles.js';
import { LeadPage, LeadsPage } from '/assets/console-leads.js';
import { SubmissionPage, SubmissionsPage } from '/assets/console-submissions.js';
import { ConfigurationPage, JourneysPage } from '/assets/console-settings.js';
import { AuditPage, UsersPage } from '/assets/console-users.js';
import {
  ENDPOINTS_EVENT, WEBHOOK_HEALTH, WebhookPage, WebhooksPage, disabledByFailure,
} from '/assets/console-webhooks.js';

const ADMIN = ['LEADGEN_ADMINISTRATOR'];
const LEAD_USERS = ['LEADGEN_ADMINISTRATOR', 'LEADGEN_SALESPERSON'];
const SALESPERSON = ['LEADGEN_SALESPERSON'];
const SYSTEM = [];

/**
 * The pages: route, menu label, the roles that may open it (SYSTEM_ADMINISTRATOR may open all),
 * and the components for the list and for one item (`#/<route>/<id>`).
 */
const PAGES = [
  { route: 'strategies', label: 'Lead Matching Strategies', group: 'leadgen', roles: ADMIN, list: StrategiesPage, item: StrategyPage },
  { route: 'mappings', label: 'Field Mappings', group: 'leadgen', roles: ADMIN, list: MappingsPage },
  { route: 'profiles', label: 'User Profiles', group: 'leadgen', roles: LEAD_USERS, list: ProfilesPage, item: ProfilePage },
  { route: 'submissions', label: 'Form Submissions', group: 'leadgen', roles: LEAD_USERS, list: SubmissionsPage, item: SubmissionPage },
  { route: 'journeys', label: 'Customer Journeys', group: 'leadgen', roles: LEAD_USERS, list: JourneysPage },
  { route: 'configuration', label: 'Integration Configuration', group: 'leadgen', roles: ADMIN, list: ConfigurationPage },
  { route: 'webhooks', label: 'Webhooks', group: 'leadgen', roles: ADMIN, list: WebhooksPage, item: WebhookPage },
  { route: 'leads', label: 'Leads', group: 'sales', roles: LEAD_USERS, list: LeadsPage, item: LeadPage },
  { route: 'users', label: 'Users', group: 'system', roles: SYSTEM, list: UsersPage },
  { route: 'audit', label: 'Audit log', group: 'system', roles: SYSTEM, list: AuditPage },
];

const GROUPS = [
  { id: 'leadgen', label: 'LinkedIn Lead Gen' },
  { id: 'sales', label: 'Sales' },
  { id: 'system', label: 'System' },
];

export const mayOpen = (viewer, page) => hasRole(viewer, ...page.roles);

/** Where a viewer starts: the first page of the menu they may open. */
function home(viewer) {
  if (hasRole(viewer, ...SALESPERSON) && !hasRole(viewer, ...ADMIN)) return 'profiles';
  return PAGES.find((p) => mayOpen(viewer, p))?.route ?? 'leads';
}

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(token.trim());
    try {
      const { viewer } = await gql('query Viewer { viewer { id name roles } }');
      onSignedIn(viewer);
    } catch (e) {
      session.signOut();
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main id="main" class="signin-main">
      <section class="card signin" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to the leadsync console</h1>
        <p class="muted">Enter your leadsync API token. It is kept in this browser tab only and sent
          as <code>Authorization: Bearer</code>.</p>
        <form onSubmit=${submit} autocomplete="off">
          <div class="field">
            <label for="token">API token</label>
            <input id="token" type="password" required spellcheck="false" value=${token}
                   aria-describedby="token-help ${error ? 'token-error' : ''}"
                   aria-invalid=${error ? 'true' : undefined}
                   onInput=${(e) => setToken(e.currentTarget.value)} />
            <p class="hint" id="token-help">A system administrator creates one (Users, or
              <code>leadsync users create --name "…" --role LEADGEN_SALESPERSON</code>).</p>
            ${error && html`<p class="field-error" id="token-error" role="alert">${
              error.code === 'UNAUTHENTICATED' ? 'This token is not valid (unknown, revoked, or its user is disabled).' : error.message
            }</p>`}
          </div>
          <button type="submit" class="button primary" disabled=${busy}>Sign in</button>
        </form>
      </section>
    </main>`;
}

/**
 * How many webhook endpoints the dispatcher disabled after failing (0 for a viewer who may not
 * open Webhooks): read when the page changes and every minute, and at once when the Webhooks pages
 * have read the endpoints (ENDPOINTS_EVENT).
 */
function useWebhookWarning(viewer, section) {
  const allowed = hasRole(viewer, ...ADMIN);
  const [count, setCount] = useState(0);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!allowed) return undefined;
    const seen = (event) => {
      if (Array.isArray(event.detail)) setCount(event.detail.filter(disabledByFailure).length);
      else setTick((t) => t + 1);
    };
    window.addEventListener(ENDPOINTS_EVENT, seen);
    return () => window.removeEventListener(ENDPOINTS_EVENT, seen);
  }, [allowed]);
  useEffect(() => {
    if (!allowed) return undefined;
    let live = true;
    // The warning is a hint: when it cannot be read, the menu shows none (the page says why).
    const check = () => gql(WEBHOOK_HEALTH).then(
      ({ webhookEndpoints }) => live && setCount(webhookEndpoints.filter(disabledByFailure).length),
      () => {},
    );
    check();
    const timer = setInterval(check, 60_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [allowed, section, tick]);
  return count;
}

function MenuWarning({ route, count }) {
  const words = `${count} endpoint${count === 1 ? ' was' : 's were'} disabled after failing continuously`;
  return html`<span class="badge bad menu-badge" id=${`menu-${route}-warning`} title=${words}>
    <span aria-hidden="true">⚠ </span>${count} disabled<span class="visually-hidden"> after failing</span></span>`;
}

function Menu({ viewer, current, warnings = {} }) {
  return html`
    <nav class="menu" aria-label="Console">
      ${GROUPS.map((group) => {
        const pages = PAGES.filter((p) => p.group === group.id && mayOpen(viewer, p));
        if (!pages.length) return null;
        return html`
          <div class="menu-group">
            <h2 class="menu-title" id=${`menu-${group.id}`}>${group.label}</h2>
            <ul aria-labelledby=${`menu-${group.id}`}>
              ${pages.map((p) => {
                const warning = warnings[p.route] ?? 0;
                return html`
                <li class=${warning ? 'menu-warn' : undefined}>
                  <a href=${`#/${p.route}`} aria-current=${current === p.route ? 'page' : undefined}
                     aria-describedby=${warning ? `menu-${p.route}-warning` : undefined}>${p.label}</a>
                  ${warning > 0 && html`<${MenuWarning} route=${p.route} count=${warning} />`}
                </li>`;
              })}
            </ul>
          </div>`;
      })}
      <div class="menu-group">
        <ul><li><a href="/">Dashboard</a></li><li><a href="/graphql">GraphiQL</a></li></ul>
      </div>
    </nav>`;
}

function NotAllowed({ page }) {
  return html`<${Page} title=${page.label}>
    <${Alert} error=${{ code: 'FORBIDDEN', message: `${page.label} needs one of these roles: ${(page.roles.length ? page.roles : ['SYSTEM_ADMINISTRATOR']).join(', ')}.` }} />
  </${Page}>`;
}

function Console({ viewer, onSignOut }) {
  const route = useRoute();
  const [section, id] = route.path;
  useEffect(() => {
    if (!section) location.replace(`#/${home(viewer)}`);
  }, [section, viewer]);
  const page = PAGES.find((p) => p.route === section);
  const webhookWarning = useWebhookWarning(viewer, section);
  let body;
  if (!section) body = null;
  else if (!page) body = html`<${Page} title="Not found"><p>There is no page here. Choose one from the menu.</p></${Page}>`;
  else if (!mayOpen(viewer, page)) body = html`<${NotAllowed} page=${page} />`;
  else if (id !== undefined && page.item) body = html`<${page.item} key=${`${section}/${id}`} id=${id} viewer=${viewer} route=${route} />`;
  else body = html`<${page.list} key=${section} viewer=${viewer} route=${route} />`;
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('page-title')?.focus(); }}>Skip to content</a>
    <header class="topbar">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true">in</span>
        <div><p class="brand-name">leadsync</p><p class="tagline">LinkedIn Lead Gen console</p></div>
      </div>
      <div class="session">
        <span class="viewer">${viewer.name} · ${viewer.roles.map((r) => r.toLowerCase().replaceAll('_', ' ')).join(', ')}</span>
        <button type="button" class="button secondary" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <div class="layout">
      <${Menu} viewer=${viewer} current=${section} warnings=${{ webhooks: webhookWarning }} />
      <main id="main">${body}</main>
    </div>`;
}

function App() {
  const [viewer, setViewer] = useState(null);
  const [checking, setChecking] = useState(Boolean(session.token()));
  useEffect(() => {
    const signedOut = () => {
      closeSubscriptions();
      setViewer(null);
    };
    const unauthenticated = () => {
      session.signOut();
    };
    window.addEventListener('leadsync:signed-out', signedOut);
    window.addEventListener('leadsync:unauthenticated', unauthenticated);
    if (session.token()) {
      // Fix (console tests): the query resolves to `{ viewer }`, not the viewer itself; a reload
      // (or LinkedIn's redirect back) rendered nothing but a page error.
      gql('query Viewer { viewer { id name roles } }')
        .then(({ viewer }) => setViewer(viewer), () => session.signOut())
        .finally(() => setChecking(false));
    }
    return () => {
      window.removeEventListener('leadsync:signed-out', signedOut);
      window.removeEventListener('leadsync:unauthenticated', unauthenticated);
    };
  }, []);
  if (checking) return html`<main id="main"><p role="status">Signing in…</p></main>`;
  if (!viewer) return html`<${SignIn} onSignedIn=${setViewer} />`;
  return html`<${Console} viewer=${viewer} onSignOut=${() => session.signOut()} />`;
}

render(html`<${App} />`, document.getElementById('app'));
