// Users and the Audit log (System, SYSTEM_ADMINISTRATOR). Users: New (name and roles) shows the new
// API token once, with Copy token; per user, its roles (Save roles), Disable / Enable, Rotate token
// (the new token shown once) and its tokens with Revoke. The server keeps the last enabled system
// administrator able to sign in: its refusals (CONFLICT) show beside the control. Audit log: every
// write, sync run and webhook notification, newest first, filtered by operation and time.

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, Pager, ROLES, closeSubscriptions, copyText, countText,
  fmtDateTime, html, localDateTimeIso, navigate, replaceRoute, useConfirm, useDebounced, useEffect,
  useMutation, useQuery, useRef, useState, usePaging, session,
} from '/assets/console-lib.js';

export const ROLE_LABELS = {
  LEADGEN_ADMINISTRATOR: 'Leadgen administrator',
  LEADGEN_SALESPERSON: 'Leadgen salesperson',
  S2S_INBOUND: 'S2S inbound',
  SYSTEM_ADMINISTRATOR: 'System administrator',
};
const ROLE_HINTS = {
  LEADGEN_ADMINISTRATOR: 'strategies, field mappings, configuration, exports and erasure',
  LEADGEN_SALESPERSON: 'LinkedIn user profiles, leads and submissions',
  S2S_INBOUND: 'the server-to-server inbound door (ingestLinkedInLeads)',
  SYSTEM_ADMINISTRATOR: 'everything, plus users and the audit log',
};

// ------------------------------------------------------------------ operations
const USER_FIELDS = 'id name roles createdAt disabledAt tokens { id createdAt lastUsedAt revokedAt }';
const USERS = `query ConsoleUsers { users { ${USER_FIELDS} } }`;
const CREATE = `mutation ConsoleCreateUser($input: CreateUserInput!) {
  createUser(input: $input) { user { id name } token }
}`;
const UPDATE_ROLES = `mutation ConsoleUpdateUserRoles($id: ID!, $roles: [Role!]!) {
  updateUserRoles(id: $id, roles: $roles) { id roles }
}`;
const DISABLE = `mutation ConsoleDisableUser($id: ID!) { disableUser(id: $id) { id disabledAt } }`;
const ENABLE = `mutation ConsoleEnableUser($id: ID!) { enableUser(id: $id) { id disabledAt } }`;
const ROTATE = `mutation ConsoleRotateUserToken($userId: ID!) {
  rotateUserToken(userId: $userId) { user { id name } token }
}`;
const REVOKE = `mutation ConsoleRevokeApiToken($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`;
const AUDIT = `query ConsoleAuditLog($first: Int, $after: String, $filter: AuditLogFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id at actor actorUserId operation objectType objectId context details } }
  }
}`;
const AUDIT_USERS = 'query ConsoleAuditUsers { users { id name } }';

const roleList = (roles) => roles.map((r) => ROLE_LABELS[r] ?? r).join(', ');

// ------------------------------------------------------------------ the token, shown once
function TokenBox({ issued, onDone, level = 2 }) {
  const [copied, setCopied] = useState(null);
  const copy = async () => setCopied(await copyText(issued.token));
  return html`
    <section class="issued-token" aria-labelledby="token-title">
      ${level === 2
        ? html`<h2 id="token-title">Token for ${issued.name}</h2>`
        : html`<h3 id="token-title">New token for ${issued.name}</h3>`}
      <p class="warning-box"><strong>Copy it now: it will not be shown again.</strong> leadsync keeps
        only its hash. Give it to ${issued.name} to sign in with (API token) or to send
        as <code>Authorization: Bearer</code>.</p>
      <div class="token-box">
        <code class="token-value" id="issued-token-value">${issued.token}</code>
        <button type="button" class="button primary" onClick=${copy}
                aria-describedby="issued-token-value">Copy token</button>
        <button type="button" class="button secondary" onClick=${onDone}>Done</button>
      </div>
      <${Notice}>${copied === true && 'Copied.'}</${Notice}>
      <${Alert} error=${copied === false && {
        code: 'CLIPBOARD',
        message: 'The browser did not allow copying to the clipboard: select the token above and copy it yourself.',
      }} />
    </section>`;
}

function RoleChecks({ idPrefix, roles, onChange, legend = 'Roles' }) {
  return html`
    <fieldset class="role-checks">
      <legend>${legend}</legend>
      ${ROLES.map((role) => html`
        <div class="check">
          <input type="checkbox" id=${`${idPrefix}-${role}`} checked=${roles.includes(role)}
                 aria-describedby=${`${idPrefix}-${role}-hint`}
                 onChange=${(e) => onChange(e.currentTarget.checked ? [...roles, role] : roles.filter((r) => r !== role))} />
          <label for=${`${idPrefix}-${role}`}>${ROLE_LABELS[role]}</label>
          <span class="muted" id=${`${idPrefix}-${role}-hint`}>${ROLE_HINTS[role]}</span>
        </div>`)}
    </fieldset>`;
}

function NewUser({ onCreated, onCancel }) {
  const [name, setName] = useState('');
  const [roles, setRoles] = useState([]);
  const [create, { busy, error }] = useMutation(CREATE);
  const save = async (event) => {
    event.preventDefault();
    const ordered = ROLES.filter((r) => roles.includes(r));
    const data = await create({ input: { name: name.trim(), roles: ordered } });
    if (data) onCreated({ name: data.createUser.user.name, token: data.createUser.token });
  };
  return html`
    <form class="card-form" onSubmit=${save} aria-labelledby="new-user-title">
      <h2 id="new-user-title">New user</h2>
      <${Field} id="new-user-name" label="Name" hint="Who or what uses the token: a person, or a service such as the web form relay.">
        ${(aria) => html`<input type="text" ...${aria} required maxlength="200" value=${name}
                                autocomplete="off" onInput=${(e) => setName(e.currentTarget.value)} />`}
      </${Field}>
      <${RoleChecks} idPrefix="new-user-role" roles=${roles} onChange=${setRoles} />
      <${Alert} error=${error} />
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

// ------------------------------------------------------------------ one user
function TokenRow({ user, token, self, onChanged, confirm }) {
  const [revoke, { busy, error }] = useMutation(REVOKE);
  const doRevoke = async () => {
    const ok = await confirm({
      title: `Revoke token #${token.id} of ${user.name}?`,
      body: html`<p>The token stops working at once: anything that signs in with it is refused from its
        next request. This cannot be undone; Rotate token issues a new one.</p>
        ${self && html`<p><strong>These are your own tokens:</strong> if it is the one you signed in with, the
          console signs you out.</p>`}`,
      confirmLabel: 'Revoke',
      danger: true,
    });
    if (ok && (await revoke({ id: token.id }))) onChanged();
  };
  return html`
    <tr>
      <td id=${`token-${token.id}-name`}>Token #${token.id}</td>
      <td class="when">${fmtDateTime(token.createdAt)}</td>
      <td class="when">${token.lastUsedAt ? fmtDateTime(token.lastUsedAt) : html`<span class="muted">never</span>`}</td>
      <td>${token.revokedAt
        ? html`<${Badge} value="INACTIVE" label=${`Revoked ${fmtDateTime(token.revokedAt)}`} />`
        : html`<${Badge} value="ACTIVE" label="Live" />`}</td>
      <td>${!token.revokedAt && html`
        <button type="button" class="button secondary small" disabled=${busy} onClick=${doRevoke}
                aria-describedby=${[`token-${token.id}-name`, error && `revoke-${token.id}-error`].filter(Boolean).join(' ')}>Revoke</button>`}
        <${Alert} error=${error} id=${`revoke-${token.id}-error`} /></td>
    </tr>`;
}

function UserPanel({ user, viewer, issued, onChanged, onIssued }) {
  const heading = useRef(null);
  const [roles, setRoles] = useState(user.roles);
  const [saveRoles, rolesState] = useMutation(UPDATE_ROLES);
  const [disable, disabling] = useMutation(DISABLE);
  const [enable, enabling] = useMutation(ENABLE);
  const [rotate, rotation] = useMutation(ROTATE);
  const [confirm, dialog] = useConfirm();
  const [message, setMessage] = useState('');
  useEffect(() => heading.current?.focus(), [user.id]);
  useEffect(() => setRoles(user.roles), [user.roles.join(',')]);
  const self = user.id === viewer.id;

  const submitRoles = async (event) => {
    event.preventDefault();
    setMessage('');
    if (await saveRoles({ id: user.id, roles: ROLES.filter((r) => roles.includes(r)) })) {
      setMessage(`The roles of ${user.name} are saved; they apply from its next request.`);
      onChanged();
    }
  };
  const toggle = async () => {
    setMessage('');
    if (user.disabledAt) {
      if (await enable({ id: user.id })) {
        setMessage(`${user.name} is enabled: its live tokens work again.`);
        onChanged();
      }
      return;
    }
    const ok = await confirm({
      title: `Disable ${user.name}?`,
      body: html`<p>Every token of ${user.name} stops working at once. Enable brings the live
        (unrevoked) ones back.</p>`,
      confirmLabel: 'Disable',
      danger: true,
    });
    if (ok && (await disable({ id: user.id }))) {
      setMessage(`${user.name} is disabled.`);
      onChanged();
    }
  };
  const doRotate = async () => {
    setMessage('');
    const live = user.tokens.filter((t) => !t.revokedAt).length;
    const ok = await confirm({
      title: `Rotate the token of ${user.name}?`,
      body: html`<p>${[
        live === 0 ? 'It has no live token.' : live === 1 ? 'Its live token stops working at once.' : `Its ${live} live tokens stop working at once.`,
        'A new token is issued and shown once.',
        self ? 'You stay signed in: this console switches to the new token.' : '',
      ].join(' ')}</p>`,
      confirmLabel: 'Rotate token',
      danger: true,
    });
    if (!ok) return;
    const data = await rotate({ userId: user.id });
    if (data && self) {
      // The token this tab signed in with has just stopped working: carry on with the new one.
      session.signIn(data.rotateUserToken.token);
      closeSubscriptions();
    }
    if (data) {
      onIssued({ name: data.rotateUserToken.user.name, token: data.rotateUserToken.token, userId: user.id });
      onChanged();
    }
  };
  const toggling = user.disabledAt ? enabling : disabling;
  return html`
    <section class="user-panel" id=${`user-panel-${user.id}`} aria-labelledby=${`user-${user.id}-title`}>
      <h2 id=${`user-${user.id}-title`} tabindex="-1" ref=${heading}>${user.name}${self ? ' (you)' : ''}</h2>
      <p class="muted">${`Created ${fmtDateTime(user.createdAt)} · ${user.disabledAt ? `disabled ${fmtDateTime(user.disabledAt)}` : 'enabled'}`}</p>
      <${Notice}>${message}</${Notice}>
      <form onSubmit=${submitRoles} class="user-roles">
        <${RoleChecks} idPrefix=${`user-${user.id}-role`} roles=${roles} onChange=${setRoles}
                        legend=${`Roles of ${user.name}`} />
        <button type="submit" class="button primary" disabled=${rolesState.busy}
                aria-describedby=${rolesState.error ? `roles-${user.id}-error` : undefined}>Save roles</button>
        <${Alert} error=${rolesState.error} id=${`roles-${user.id}-error`} />
      </form>
      <div class="actions user-actions">
        <button type="button" class=${`button ${user.disabledAt ? 'primary' : 'danger'}`} disabled=${toggling.busy}
                onClick=${toggle}
                aria-describedby=${toggling.error ? `toggle-${user.id}-error` : undefined}>${user.disabledAt ? 'Enable' : 'Disable'}</button>
        <button type="button" class="button secondary" disabled=${rotation.busy} onClick=${doRotate}
                aria-describedby=${rotation.error ? `rotate-${user.id}-error` : undefined}>Rotate token</button>
      </div>
      <${Alert} error=${toggling.error} id=${`toggle-${user.id}-error`} />
      <${Alert} error=${rotation.error} id=${`rotate-${user.id}-error`} />
      ${issued?.userId === user.id && html`<${TokenBox} issued=${issued} level=${3} onDone=${() => onIssued(null)} />`}
      <h3>Tokens</h3>
      ${user.tokens.length === 0
        ? html`<${Empty}><p>${user.name} has no token: Rotate token issues one.</p></${Empty}>`
        : html`
          <div class="table-wrap contained">
            <table class="list">
              <caption class="visually-hidden">API tokens of ${user.name}, newest first</caption>
              <thead><tr><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th>
                <th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>${user.tokens.map((t) => html`<${TokenRow} key=${t.id} user=${user} token=${t} self=${self}
                                                             onChanged=${onChanged} confirm=${confirm} />`)}</tbody>
            </table>
          </div>`}
      ${dialog}
    </section>`;
}

export function UsersPage({ viewer }) {
  const query = useQuery(USERS);
  const [creating, setCreating] = useState(false);
  const [issued, setIssued] = useState(null);
  const [openId, setOpenId] = useState(null);
  return html`
    <${Page} title="Users"
             actions=${!creating && html`<button type="button" class="button primary"
                                                 onClick=${() => { setIssued(null); setCreating(true); }}>New</button>`}>
      <p class="muted">API users and their tokens: people sign in to the console with a token, services
        send it as <code>Authorization: Bearer</code>. Roles decide what each may do.</p>
      ${issued && !issued.userId && html`<${TokenBox} issued=${issued} onDone=${() => setIssued(null)} />`}
      ${creating && html`<${NewUser} onCancel=${() => setCreating(false)}
                                      onCreated=${(created) => { setCreating(false); setIssued(created); query.reload(); }} />`}
      <${Loaded} query=${query}>${(data) => {
        const open = data.users.find((u) => u.id === openId);
        return html`
          ${data.users.length === 0
            ? html`<${Empty}><p>No users yet. Choose <strong>New</strong>.</p></${Empty}>`
            : html`
              <div class="table-wrap contained">
                <table class="list">
                  <caption class="visually-hidden">API users</caption>
                  <thead><tr><th scope="col">Name</th><th scope="col">Roles</th><th scope="col">Created</th>
                    <th scope="col">Status</th><th scope="col" class="num">Live tokens</th>
                    <th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
                  <tbody>${data.users.map((u) => html`
                    <tr class=${u.id === openId ? 'selected' : ''}>
                      <td>${u.name}${u.id === viewer.id && html` <span class="muted">(you)</span>`}</td>
                      <td>${roleList(u.roles)}</td>
                      <td class="when">${fmtDateTime(u.createdAt)}</td>
                      <td>${u.disabledAt
                        ? html`<${Badge} value="FAILED" label=${`Disabled ${fmtDateTime(u.disabledAt)}`} />`
                        : html`<${Badge} value="ACTIVE" label="Enabled" />`}</td>
                      <td class="num">${u.tokens.filter((t) => !t.revokedAt).length}</td>
                      <td><button type="button" class="button secondary small" aria-label=${`Manage ${u.name}`}
                                  aria-expanded=${u.id === openId ? 'true' : 'false'} aria-controls=${`user-panel-${u.id}`}
                                  onClick=${() => setOpenId(u.id === openId ? null : u.id)}>Manage</button></td>
                    </tr>`)}
                  </tbody>
                </table>
              </div>`}
          ${open && html`<${UserPanel} key=${open.id} user=${open} viewer=${viewer} issued=${issued}
                                       onChanged=${query.reload} onIssued=${setIssued} />`}`;
      }}</${Loaded}>
    </${Page}>`;
}

// ------------------------------------------------------------------ audit log
function actorText(entry, names) {
  if (entry.actor === 'USER') {
    const name = names.get(entry.actorUserId);
    return name ? `${name} (user ${entry.actorUserId})` : `User ${entry.actorUserId ?? '?'}`;
  }
  if (entry.actor === 'S2S') {
    if (entry.operation === 'webhookNotification' || entry.context?.startsWith('webhookNotification')) return 'LinkedIn webhook';
    return 'Sync worker';
  }
  if (entry.actor === 'CLI') return 'Command line';
  return entry.actor;
}

function AuditResults({ filter }) {
  const paging = usePaging();
  const query = useQuery(AUDIT, { first: 50, after: paging.after, filter });
  const users = useQuery(AUDIT_USERS);
  const names = new Map((users.data?.users ?? []).map((u) => [u.id, u.name]));
  return html`<${Loaded} query=${query}>${(data) => {
    const { totalCount, edges, pageInfo } = data.auditLog;
    if (!edges.length && paging.page === 1) {
      return Object.keys(filter).length
        ? html`<${Empty}><p><strong>No entry matches these filters.</strong> The operation is matched
            exactly (for example <code>updateLead</code>); <a href="#/audit">show every entry</a>.</p></${Empty}>`
        : html`<${Empty}><p>No audit entries yet: every write through the API or the command line,
            every sync run and webhook notification will appear here.</p></${Empty}>`;
    }
    return html`
      <p class="muted list-count" role="status">${countText(totalCount, 'entry', 'entries')}${query.loading ? ' (updating…)' : ''}</p>
      <${Alert} error=${query.error} />
      <div class="table-wrap" tabindex="0" role="region" aria-label="Audit log entries">
        <table class="list audit">
          <caption class="visually-hidden">Audit log, newest first, page ${paging.page}</caption>
          <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Operation</th>
            <th scope="col">Object</th><th scope="col">Details</th></tr></thead>
          <tbody>${edges.map(({ node: e }) => html`
            <tr>
              <td class="when">${fmtDateTime(e.at)}</td>
              <td>${actorText(e, names)}</td>
              <td><code>${e.operation}</code></td>
              <td>${e.objectType}${e.objectId && html`<span class="sub">${e.objectId}</span>`}</td>
              <td>${e.details != null && html`<code class="json-inline">${JSON.stringify(e.details)}</code>`}
                ${e.context && html`<span class="sub">${e.context}</span>`}</td>
            </tr>`)}
          </tbody>
        </table>
      </div>
      ${(paging.page > 1 || pageInfo.hasNextPage) && html`<${Pager} paging=${paging} pageInfo=${pageInfo} label="Audit log pages" />`}`;
  }}</${Loaded}>`;
}

const OPERATIONS = [
  'createUser', 'updateUserRoles', 'disableUser', 'enableUser', 'revokeApiToken', 'rotateUserToken',
  'createLead', 'updateLead', 'deleteLead', 'eraseLead', 'exportPersonalData', 'exportLeadPersonalData',
  'createFieldMapping', 'deleteFieldMapping', 'createLeadMatchingStrategy', 'updateLeadMatchingStrategy',
  'addStrategyField', 'removeStrategyField', 'activateStrategy', 'deleteLeadMatchingStrategy',
  'updateIntegrationConfiguration', 'createLinkedInUserProfile', 'authorizeLinkedInUserProfile',
  'completeLinkedInAuthorization', 'updateLinkedInAccount', 'syncSubmissions', 'resetSynchronization',
  'purgeRetention', 'retentionPurge', 'ingestLinkedInLeads', 'syncRun', 'webhookNotification',
];

export function AuditPage({ route }) {
  const op = route.query.get('operation') ?? '';
  const since = route.query.get('since') ?? '';
  const until = route.query.get('until') ?? '';
  const go = (changes, replace = false) =>
    (replace ? replaceRoute : navigate)('audit', { operation: op, since, until, ...changes });

  const [text, setText] = useState(op);
  const pushed = useRef(op);
  const settled = useDebounced(text, 300);
  useEffect(() => {
    const next = settled.trim();
    if (next !== pushed.current) {
      pushed.current = next;
      go({ operation: next }, true);
    }
  }, [settled]);
  useEffect(() => {
    if (op !== pushed.current) {
      pushed.current = op;
      setText(op);
    }
  }, [op]);

  const filter = Object.fromEntries(Object.entries({
    operation: op || null,
    since: localDateTimeIso(since),
    until: localDateTimeIso(until),
  }).filter(([, v]) => v != null));
  return html`
    <${Page} title="Audit log">
      <p class="muted">Every write through the API or the command line, every sync run and webhook
        notification, and every personal data export, newest first. Entries cannot be changed or
        deleted, and hold no personal data.</p>
      <form class="filters" aria-label="Filter the audit log" onSubmit=${(e) => e.preventDefault()}>
        <${Field} id="audit-operation" label="Operation">
          ${(aria) => html`<input type="text" ...${aria} list="audit-operations" value=${text} maxlength="100"
                                  spellcheck="false" autocomplete="off" placeholder="updateLead"
                                  onInput=${(e) => setText(e.currentTarget.value)} />`}
        </${Field}>
        <datalist id="audit-operations">${OPERATIONS.map((o) => html`<option value=${o}></option>`)}</datalist>
        <${Field} id="audit-since" label="Since">
          ${(aria) => html`<input type="datetime-local" ...${aria} value=${since}
                                  onChange=${(e) => go({ since: e.currentTarget.value })} />`}
        </${Field}>
        <${Field} id="audit-until" label="Until">
          ${(aria) => html`<input type="datetime-local" ...${aria} value=${until}
                                  onChange=${(e) => go({ until: e.currentTarget.value })} />`}
        </${Field}>
      </form>
      <${AuditResults} key=${JSON.stringify(filter)} filter=${filter} />
    </${Page}>`;
}
