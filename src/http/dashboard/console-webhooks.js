// Webhooks (LinkedIn Lead Gen, LEADGEN_ADMINISTRATOR): the endpoints leadsync posts signed lead
// events to (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`). New (URL,
// description, event types, optional campaign / form / lead type filters) shows the signing secret
// once, with Copy secret. An endpoint's page has Send test (the answer in words), Edit,
// Disable / Enable, Rotate secret (the new secret shown once), Delete (a confirmation naming the
// URL) and its delivery log: filtered by status (kept in the URL), paged, refreshed every few
// seconds, with Replay per delivery. An endpoint the dispatcher disabled after failing
// continuously is flagged on the list, on its page and in the menu (console-app.js listens for
// ENDPOINTS_EVENT and reads `disabledByFailure`).

import {
  Alert, Badge, Empty, Field, Loaded, Notice, Page, Pager, copyText, countText, fmtDateTime, fmtNumber,
  html, leadTypeLabel, navigate, useConfirm, useEffect, useMutation, useQuery, useRef, useState,
  usePaging,
} from '/assets/console-lib.js';
import { CHOICES, choiceOptions } from '/assets/console-leads.js';

const PAGE_SIZE = 20;
/** How often the list and the delivery log read again while they are open. */
const POLL_MS = 3000;

// ------------------------------------------------------------------ operations
const ENDPOINT_FIELDS = `id url description eventTypes campaignId formId leadType enabled disabledReason
  failingSince createdAt updatedAt`;
const DELIVERY_FIELDS = `id webhookId eventId eventType leadId status attempts nextAttemptAt lastAttemptAt
  lastStatusCode lastError lastLatencyMs responseExcerpt createdAt deliveredAt`;

/** The shell's check for endpoints disabled after failing (console-app.js). */
export const WEBHOOK_HEALTH = 'query ConsoleWebhookHealth { webhookEndpoints { id enabled disabledReason } }';
const LIST = `query ConsoleWebhookEndpoints { webhookEndpoints { ${ENDPOINT_FIELDS} } }`;
const ONE = `query ConsoleWebhookEndpoint($id: ID!) { webhookEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`;
const DELIVERIES = `query ConsoleWebhookDeliveries($id: ID!, $first: Int, $after: String, $status: WebhookDeliveryStatus) {
  webhookEndpoint(id: $id) {
    id
    deliveries(first: $first, after: $after, status: $status) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { ${DELIVERY_FIELDS} } }
    }
  }
}`;
const CREATE = `mutation ConsoleCreateWebhookEndpoint($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id url } secret }
}`;
const UPDATE = `mutation ConsoleUpdateWebhookEndpoint($id: ID!, $input: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $input) { ${ENDPOINT_FIELDS} }
}`;
const DELETE = 'mutation ConsoleDeleteWebhookEndpoint($id: ID!) { deleteWebhookEndpoint(id: $id) { id url } }';
const DISABLE = 'mutation ConsoleDisableWebhookEndpoint($id: ID!) { disableWebhookEndpoint(id: $id) { id enabled disabledReason } }';
const ENABLE = 'mutation ConsoleEnableWebhookEndpoint($id: ID!) { enableWebhookEndpoint(id: $id) { id enabled disabledReason } }';
const ROTATE = 'mutation ConsoleRotateWebhookSecret($id: ID!) { rotateWebhookSecret(id: $id) { endpoint { id url } secret } }';
const SEND_TEST = `mutation ConsoleSendTestWebhook($id: ID!) {
  sendTestWebhook(id: $id) { succeeded statusCode latencyMs error responseExcerpt webhookId }
}`;
const REPLAY = `mutation ConsoleReplayWebhookDelivery($id: ID!) {
  replayWebhookDelivery(id: $id) { id webhookId status attempts nextAttemptAt }
}`;

// ------------------------------------------------------------------ words
/** The event types: enum value, checkbox label, what is sent as `type`, what it means. */
export const EVENT_TYPES = [
  ['LEAD_CREATED', 'Lead created', 'lead.created', 'a lead was created (by a submission or through the API)'],
  ['LEAD_UPDATED', 'Lead updated', 'lead.updated', 'a lead\u2019s fields changed'],
  ['SUBMISSION_RECEIVED', 'Submission received', 'submission.received', 'a LinkedIn form submission reached a lead'],
  ['LEAD_DELETED', 'Lead deleted', 'lead.deleted', 'a lead was deleted (its id only)'],
  ['LEAD_ERASED', 'Lead erased', 'lead.erased', 'a person was erased (the lead id only, no personal data)'],
];
const EVENT_WIRE = Object.fromEntries(EVENT_TYPES.map(([value, , wire]) => [value, wire]));
const EVENT_LABEL = Object.fromEntries(EVENT_TYPES.map(([value, label]) => [value, label]));
const eventList = (types) => types.map((t) => EVENT_WIRE[t] ?? t).join(', ');

const STATUSES = [
  ['PENDING', 'Pending', 'waiting for its (next) attempt'],
  ['DELIVERING', 'Delivering', 'being sent now'],
  ['SUCCEEDED', 'Succeeded', 'the endpoint answered 2xx'],
  ['FAILED', 'Failed', 'given up: the retry window passed, or 410 Gone'],
  ['SKIPPED', 'Skipped', 'not sent: the lead was gone'],
];
const STATUS_LABEL = Object.fromEntries(STATUSES.map(([value, label]) => [value, label]));

const LEAD_TYPES = ['SPONSORED', 'COMPANY', 'ORGANIZATION_PRODUCT', 'EVENT'];

/** What `disableWebhookEndpoint` records; any other reason is the dispatcher's. */
const BY_ADMINISTRATOR = /^disabled by an administrator/i;

/** Whether the dispatcher disabled the endpoint (failing continuously, or 410 Gone). */
export function disabledByFailure(endpoint) {
  return !endpoint.enabled && Boolean(endpoint.disabledReason) && !BY_ADMINISTRATOR.test(endpoint.disabledReason);
}

/**
 * Sent when a page has read every endpoint (`detail`: the list), or has seen one change whether it
 * is disabled by failure (no `detail`: the shell reads them again): the menu's warning follows.
 */
export const ENDPOINTS_EVENT = 'leadsync:webhook-endpoints';
const announce = (endpoints) => window.dispatchEvent(new CustomEvent(ENDPOINTS_EVENT, { detail: endpoints }));

const sentence = (text) => (text ? text.charAt(0).toUpperCase() + text.slice(1) : text);
const period = (text) => (/[.!?]$/.test(text) ? text : `${text}.`);

/**
 * A BAD_USER_INPUT error's field: the server writes `url: …`, `eventTypes: …`; the error without
 * its prefix goes beside that field, anything else beside the form's buttons.
 */
function errorsByField(error) {
  const match = error?.code === 'BAD_USER_INPUT' && /^(url|description|eventTypes|campaignId|formId|leadType):\s*(.+)$/s.exec(error.message ?? '');
  if (!match) return { other: error };
  return { [match[1]]: { code: error.code, message: sentence(match[2]) } };
}

/** Reads again every POLL_MS while `on` (quietly: the data stays shown meanwhile). */
function usePolling(reload, on = true) {
  useEffect(() => {
    if (!on) return undefined;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload, on]);
}

function StatusBadge({ endpoint }) {
  if (disabledByFailure(endpoint)) return html`<${Badge} value="FAILED" label="Disabled after failing" />`;
  if (!endpoint.enabled) return html`<${Badge} value="INACTIVE" label="Disabled" />`;
  if (endpoint.failingSince) return html`<${Badge} value="PENDING" label="Enabled, failing" />`;
  return html`<${Badge} value="ACTIVE" label="Enabled" />`;
}

// ------------------------------------------------------------------ the secret, shown once
function SecretBox({ shown, onDone, level = 2 }) {
  const [copied, setCopied] = useState(null);
  const copy = async () => setCopied(await copyText(shown.secret));
  const title = shown.rotated ? `New signing secret for ${shown.url}` : `Signing secret for ${shown.url}`;
  return html`
    <section class="issued-token" aria-labelledby="webhook-secret-title">
      ${level === 2 ? html`<h2 id="webhook-secret-title">${title}</h2>` : html`<h3 id="webhook-secret-title">${title}</h3>`}
      <p class="warning-box"><strong>Copy it now: it will not be shown again.</strong> leadsync keeps it
        encrypted and never shows it back. Give it to the receiver: it checks the <code>webhook-signature</code>
        header of every request with it
        ${shown.rotated ? html` (the old secret has stopped signing: deliveries from now on use this one)` : ''}.</p>
      <div class="token-box">
        <code class="token-value" id="webhook-secret-value">${shown.secret}</code>
        <button type="button" class="button primary" onClick=${copy}
                aria-describedby="webhook-secret-value">Copy secret</button>
        <button type="button" class="button secondary" onClick=${onDone}>Done</button>
      </div>
      <${Notice}>${copied === true && 'Copied.'}</${Notice}>
      <${Alert} error=${copied === false && {
        code: 'CLIPBOARD',
        message: 'The browser did not allow copying to the clipboard: select the secret above and copy it yourself.',
      }} />
    </section>`;
}

// ------------------------------------------------------------------ new / edit
/** The endpoint's fields. `onSave(input)` gets the whole input (New) or only what changed (Edit). */
function EndpointForm({ endpoint, idPrefix, title, busy, error, onSave, onCancel }) {
  const [url, setUrl] = useState(endpoint?.url ?? '');
  const [description, setDescription] = useState(endpoint?.description ?? '');
  const [types, setTypes] = useState(endpoint?.eventTypes ?? []);
  const [campaignId, setCampaignId] = useState(endpoint?.campaignId ?? '');
  const [formId, setFormId] = useState(endpoint?.formId ?? '');
  const [leadType, setLeadType] = useState(endpoint?.leadType ?? '');
  const choices = useQuery(CHOICES);
  const errors = errorsByField(error);
  const id = (name) => `${idPrefix}-${name}`;

  const submit = async (event) => {
    event.preventDefault();
    const input = {
      url: url.trim(),
      description: description.trim(),
      eventTypes: EVENT_TYPES.map(([value]) => value).filter((t) => types.includes(t)),
      campaignId: campaignId || null,
      formId: formId || null,
      leadType: leadType || null,
    };
    if (!endpoint) {
      onSave(input);
      return;
    }
    const before = {
      url: endpoint.url, description: endpoint.description, eventTypes: endpoint.eventTypes,
      campaignId: endpoint.campaignId ?? null, formId: endpoint.formId ?? null, leadType: endpoint.leadType ?? null,
    };
    const same = (a, b) => (Array.isArray(a) ? JSON.stringify([...a].sort()) === JSON.stringify([...b].sort()) : a === b);
    onSave(Object.fromEntries(Object.entries(input).filter(([k, v]) => !same(v, before[k]))));
  };
  const toggle = (type, on) => setTypes((t) => (on ? [...t.filter((x) => x !== type), type] : t.filter((x) => x !== type)));
  const campaigns = choiceOptions(choices.data?.linkedInCampaigns ?? []);
  const forms = choiceOptions(choices.data?.linkedInForms ?? []);
  const select = (name, label, value, set, options, any) => html`
    <${Field} id=${id(name)} label=${label} error=${errors[name === 'campaign' ? 'campaignId' : name === 'form' ? 'formId' : name]}>
      ${(aria) => html`<select ...${aria} value=${value} onChange=${(e) => set(e.currentTarget.value)}>
        <option value="">${any}</option>
        ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
      </select>`}
    </${Field}>`;
  const typesError = errors.eventTypes && `${id('events')}-error`;
  return html`
    <form class="card-form webhook-form" onSubmit=${submit} aria-labelledby=${id('title')} novalidate>
      <h2 id=${id('title')}>${title}</h2>
      <${Field} id=${id('url')} label="URL" error=${errors.url}
                hint="Where your receiver listens: https://… (leadsync posts each event there as JSON).">
        ${(aria) => html`<input type="url" ...${aria} required maxlength="2048" value=${url} spellcheck="false"
                                autocomplete="off" placeholder="https://crm.example.com/hooks/leadsync"
                                onInput=${(e) => setUrl(e.currentTarget.value)} />`}
      </${Field}>
      <${Field} id=${id('description')} label="Description" error=${errors.description}
                hint="Optional: what receives it (at most 500 characters).">
        ${(aria) => html`<input type="text" ...${aria} maxlength="500" value=${description}
                                onInput=${(e) => setDescription(e.currentTarget.value)} />`}
      </${Field}>
      <fieldset class="event-types" aria-describedby=${typesError || undefined}>
        <legend>Events to send</legend>
        ${EVENT_TYPES.map(([value, label, wire, meaning]) => html`
          <div class="check">
            <input type="checkbox" id=${id(`event-${value}`)} checked=${types.includes(value)}
                   aria-describedby=${id(`event-${value}-hint`)}
                   onChange=${(e) => toggle(value, e.currentTarget.checked)} />
            <label for=${id(`event-${value}`)}>${label}</label>
            <span class="muted" id=${id(`event-${value}-hint`)}><code>${wire}</code>: ${meaning}</span>
          </div>`)}
        ${errors.eventTypes && html`<p class="field-error" id=${typesError} role="alert">${errors.eventTypes.message}</p>`}
      </fieldset>
      <fieldset class="webhook-filters">
        <legend>Only events of (optional)</legend>
        <p class="hint">Leave these at "Any" to receive every event of the chosen types.</p>
        <div class="mapping-fields">
          ${select('campaign', 'Campaign', campaignId, setCampaignId, campaigns, 'Any campaign')}
          ${select('form', 'Form', formId, setFormId, forms, 'Any form')}
          ${select('leadType', 'Lead type', leadType, setLeadType, LEAD_TYPES.map((t) => [t, leadTypeLabel(t)]), 'Any lead type')}
        </div>
        <p class="hint">Only <code>submission.received</code> events carry a lead type: with one chosen,
          the <code>lead.*</code> events are not sent (<code>lead.erased</code> always is).</p>
        <${Alert} error=${choices.error} />
      </fieldset>
      <${Alert} error=${errors.other} id=${id('error')} />
      <div class="actions">
        <button type="submit" class="button primary" disabled=${busy}
                aria-describedby=${errors.other ? id('error') : undefined}>Save</button>
        <button type="button" class="button secondary" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

function NewEndpoint({ onCreated, onCancel }) {
  const [create, { busy, error }] = useMutation(CREATE);
  const save = async (input) => {
    const data = await create({ input });
    if (data) onCreated({ id: data.createWebhookEndpoint.endpoint.id, url: data.createWebhookEndpoint.endpoint.url, secret: data.createWebhookEndpoint.secret });
  };
  return html`<${EndpointForm} idPrefix="new-webhook" title="New webhook endpoint" busy=${busy} error=${error}
                              onSave=${save} onCancel=${onCancel} />`;
}

// ------------------------------------------------------------------ the list
/** The warning above a list or page: endpoints the dispatcher disabled. */
function FailureWarning({ endpoints }) {
  const failed = endpoints.filter(disabledByFailure);
  if (!failed.length) return null;
  return html`
    <div class="webhook-flag" role="region" aria-labelledby="webhooks-failed-title">
      <h2 id="webhooks-failed-title">${failed.length === 1 ? 'An endpoint was disabled after failing' : `${failed.length} endpoints were disabled after failing`}</h2>
      <ul>${failed.map((e) => html`
        <li><a href=${`#/webhooks/${e.id}`}>${e.url}</a>: ${period(sentence(e.disabledReason))}</li>`)}
      </ul>
      <p>It gets no new events while disabled. Fix the receiver, open the endpoint, choose <strong>Send test</strong>
        to check it answers, then <strong>Enable</strong>: its queued deliveries resume.</p>
    </div>`;
}

export function WebhooksPage() {
  const query = useQuery(LIST);
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState(null);
  usePolling(query.reload);
  useEffect(() => {
    if (query.data) announce(query.data.webhookEndpoints);
  }, [query.data]);
  return html`
    <${Page} title="Webhooks"
             actions=${!creating && html`<button type="button" class="button primary"
                                                 onClick=${() => { setShown(null); setCreating(true); }}>New</button>`}>
      <p class="muted">leadsync posts every lead event of the chosen types to these endpoints as it happens
        (a sync, an edit, an erasure), signed with the endpoint's secret (Standard Webhooks), and retries
        until the endpoint answers 2xx. An endpoint that keeps failing is disabled.</p>
      ${query.data && html`<${FailureWarning} endpoints=${query.data.webhookEndpoints} />`}
      ${shown && html`<${SecretBox} shown=${shown} onDone=${() => setShown(null)} />`}
      ${shown && html`<p><a href=${`#/webhooks/${shown.id}`}>Open ${shown.url}</a> to send it a test event.</p>`}
      ${creating && html`<${NewEndpoint} onCancel=${() => setCreating(false)}
                                          onCreated=${(made) => { setCreating(false); setShown(made); query.reload(); }} />`}
      <${Loaded} query=${query}>${(data) => (data.webhookEndpoints.length === 0
        ? html`<${Empty}><p><strong>No webhook endpoints yet.</strong> Choose <strong>New</strong> to register
            the URL of a receiver (your CRM, a queue, a function): leadsync then tells it about new and
            changed leads as they happen.</p></${Empty}>`
        : html`
          <div class="table-wrap">
            <table class="list webhooks">
              <caption class="visually-hidden">Webhook endpoints, oldest first</caption>
              <thead><tr><th scope="col">Endpoint</th><th scope="col">Events</th><th scope="col">Status</th>
                <th scope="col">Updated</th></tr></thead>
              <tbody>${data.webhookEndpoints.map((e) => html`
                <tr class=${disabledByFailure(e) ? 'flagged' : ''}>
                  <td><a href=${`#/webhooks/${e.id}`}>${e.url}</a>
                    ${e.description && html`<span class="sub">${e.description}</span>`}</td>
                  <td><code>${eventList(e.eventTypes)}</code>
                    ${(e.campaignId || e.formId || e.leadType) && html`<span class="sub">filtered</span>`}</td>
                  <td><${StatusBadge} endpoint=${e} />
                    ${!e.enabled && e.disabledReason && html`<span class="sub">${sentence(e.disabledReason)}</span>`}
                    ${e.failingSince && html`<span class="sub"><strong>Failing since ${fmtDateTime(e.failingSince)}</strong></span>`}</td>
                  <td class="when">${fmtDateTime(e.updatedAt)}</td>
                </tr>`)}
              </tbody>
            </table>
          </div>`)}
      </${Loaded}>
    </${Page}>`;
}

// ------------------------------------------------------------------ one endpoint
function TestResult({ result }) {
  const answer = result.statusCode == null ? 'did not answer' : `answered ${result.statusCode}`;
  const words = result.succeeded
    ? `The test succeeded: the endpoint answered ${result.statusCode} in ${fmtNumber(result.latencyMs)} ms.`
    : `The test failed: the endpoint ${answer} after ${fmtNumber(result.latencyMs)} ms${result.error ? ` (${result.error})` : ''}.`;
  return html`
    <div class=${`test-result ${result.succeeded ? 'good' : 'bad'}`} role=${result.succeeded ? 'status' : 'alert'}>
      <p><strong>${words}</strong></p>
      <p class="small-print">Sent as <code>webhook.test</code> with <code>webhook-id: ${result.webhookId}</code>; it
        is not queued, not retried, and not counted as a failure.
        ${!result.succeeded && ' Check the URL and that the receiver answers 2xx to a signed POST.'}</p>
      ${result.responseExcerpt && html`<p class="small-print">It answered: <code class="json-inline">${result.responseExcerpt}</code></p>`}
    </div>`;
}

function DeliveryRow({ delivery: d, onReplayed }) {
  const [replay, { busy, error }] = useMutation(REPLAY);
  const idCell = `delivery-${d.id}-id`;
  const errorId = `delivery-${d.id}-error`;
  const doReplay = async () => {
    const data = await replay({ id: d.id });
    if (data) onReplayed(data.replayWebhookDelivery);
  };
  return html`
    <tr>
      <td class="when">${fmtDateTime(d.createdAt)}
        ${d.deliveredAt && html`<span class="sub">delivered ${fmtDateTime(d.deliveredAt)}</span>`}</td>
      <td class="delivery-event">${d.eventType ? html`<code>${EVENT_WIRE[d.eventType]}</code>` : '—'}
        <span class="sub"><a href=${`#/leads/${d.leadId}`}>Lead ${d.leadId}</a></span></td>
      <td id=${idCell}><code>${d.webhookId}</code></td>
      <td class="delivery-status"><${Badge} value=${d.status} label=${STATUS_LABEL[d.status]} />
        ${d.lastAttemptAt && html`<span class="sub">last attempt ${fmtDateTime(d.lastAttemptAt)}</span>`}
        ${d.status === 'PENDING' && html`<span class="sub">next attempt ${fmtDateTime(d.nextAttemptAt)}</span>`}</td>
      <td class="num">${d.attempts}</td>
      <td class="num">${d.lastStatusCode ?? html`<span class="muted">${d.attempts ? 'no answer' : '—'}</span>`}</td>
      <td class="num">${d.lastLatencyMs == null ? '—' : `${fmtNumber(d.lastLatencyMs)} ms`}</td>
      <td class="delivery-answer">${d.lastError && html`<span class="delivery-error">${d.lastError}</span>`}
        ${d.responseExcerpt && html`<code class="json-inline">${d.responseExcerpt}</code>`}
        ${!d.lastError && !d.responseExcerpt && '—'}</td>
      <td><button type="button" class="button secondary small" disabled=${busy} onClick=${doReplay}
                  aria-describedby=${[idCell, error && errorId].filter(Boolean).join(' ')}>Replay</button></td>
    </tr>
    ${error && html`<tr class="row-error"><td colspan="9"><${Alert} error=${error} id=${errorId} /></td></tr>`}`;
}

function Deliveries({ endpoint, status }) {
  const paging = usePaging();
  const query = useQuery(DELIVERIES, { id: endpoint.id, first: PAGE_SIZE, after: paging.after, status: status || null });
  const [message, setMessage] = useState('');
  // New deliveries arrive on the first page (newest first); later pages stay as they were read.
  usePolling(query.reload, paging.page === 1);
  return html`
    <${Notice}>${message}</${Notice}>
    <${Loaded} query=${query}>${(data) => {
      const { totalCount, edges, pageInfo } = data.webhookEndpoint.deliveries;
      if (!edges.length && paging.page === 1) {
        return status
          ? html`<${Empty}><p><strong>No ${STATUS_LABEL[status].toLowerCase()} deliveries.</strong>
              <a href=${`#/webhooks/${endpoint.id}`}>Show every delivery</a>.</p></${Empty}>`
          : html`<${Empty}><p><strong>No deliveries yet.</strong> The endpoint gets the events
              (<code>${eventList(endpoint.eventTypes)}</code>) logged since it was registered: they appear here
              when a sync brings leads or a lead is created or edited.
              ${endpoint.enabled ? ' Choose Send test to check that it answers now.' : ' It is disabled: choose Enable to receive them.'}</p></${Empty}>`;
      }
      return html`
        <p class="muted list-count" role="status">${countText(totalCount, 'delivery', 'deliveries')}</p>
        <${Alert} error=${query.error} />
        <div class="table-wrap" tabindex="0" role="region" aria-label="Delivery log">
          <table class="list deliveries">
            <caption class="visually-hidden">Deliveries to ${endpoint.url}, newest first, page ${paging.page}</caption>
            <thead><tr>
              <th scope="col">Created</th><th scope="col">Event</th><th scope="col">Webhook id</th>
              <th scope="col">Status</th><th scope="col" class="num">Attempts</th>
              <th scope="col" class="num">Status code</th><th scope="col" class="num">Latency</th>
              <th scope="col">Error / answer</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr></thead>
            <tbody>${edges.map(({ node }) => html`<${DeliveryRow} key=${node.id} delivery=${node}
              onReplayed=${(d) => {
                setMessage(`Delivery ${d.webhookId} is queued again: it is sent within moments, with the lead's data as it is now.`);
                query.reload();
              }} />`)}
            </tbody>
          </table>
        </div>
        ${(paging.page > 1 || pageInfo.hasNextPage) && html`<${Pager} paging=${paging} pageInfo=${pageInfo} label="Delivery log pages" />`}`;
    }}</${Loaded}>`;
}

function Facts({ endpoint }) {
  const filtered = endpoint.campaignId || endpoint.formId;
  const choices = useQuery(filtered ? CHOICES : null);
  const nameOf = (list, id) => choiceOptions(list ?? []).find(([v]) => v === id)?.[1] ?? `#${id}`;
  return html`
    <dl class="facts">
      <dt>URL</dt><dd><code>${endpoint.url}</code></dd>
      <dt>Description</dt><dd>${endpoint.description || html`<span class="muted">none</span>`}</dd>
      <dt>Events</dt><dd>${endpoint.eventTypes.map((t, i) => html`${i ? ', ' : ''}${EVENT_LABEL[t] ?? t} (<code>${EVENT_WIRE[t] ?? t}</code>)`)}</dd>
      <dt>Only events of</dt><dd>${!filtered && !endpoint.leadType ? 'every campaign, form and lead type' : [
        endpoint.campaignId && `campaign ${nameOf(choices.data?.linkedInCampaigns, endpoint.campaignId)}`,
        endpoint.formId && `form ${nameOf(choices.data?.linkedInForms, endpoint.formId)}`,
        endpoint.leadType && leadTypeLabel(endpoint.leadType, true),
      ].filter(Boolean).join('; ')}</dd>
      <dt>Status</dt><dd><${StatusBadge} endpoint=${endpoint} />
        ${!endpoint.enabled && endpoint.disabledReason && ` ${period(sentence(endpoint.disabledReason))}`}</dd>
      <dt>Failing since</dt><dd>${endpoint.failingSince ? html`<strong>${fmtDateTime(endpoint.failingSince)}</strong>` : html`<span class="muted">not failing</span>`}</dd>
      <dt>Registered</dt><dd>${fmtDateTime(endpoint.createdAt)}</dd>
      <dt>Updated</dt><dd>${fmtDateTime(endpoint.updatedAt)}</dd>
    </dl>`;
}

function EditEndpoint({ endpoint, onSaved, onCancel }) {
  const [update, { busy, error }] = useMutation(UPDATE);
  const save = async (input) => {
    if (!Object.keys(input).length) {
      onSaved('Nothing changed.');
      return;
    }
    if (await update({ id: endpoint.id, input })) onSaved('The endpoint is saved.');
  };
  return html`<${EndpointForm} endpoint=${endpoint} idPrefix="edit-webhook" title=${`Edit ${endpoint.url}`}
                              busy=${busy} error=${error} onSave=${save} onCancel=${onCancel} />`;
}

export function WebhookPage({ id, route }) {
  const query = useQuery(ONE, { id });
  const [sendTest, testing] = useMutation(SEND_TEST);
  const [disable, disabling] = useMutation(DISABLE);
  const [enable, enabling] = useMutation(ENABLE);
  const [rotate, rotation] = useMutation(ROTATE);
  const [remove, removal] = useMutation(DELETE);
  const [confirm, dialog] = useConfirm();
  const [result, setResult] = useState(null);
  const [shown, setShown] = useState(null);
  const [editing, setEditing] = useState(false);
  const [message, setMessage] = useState('');
  const status = route.query.get('status') ?? '';
  usePolling(query.reload);
  const flagged = useRef(null);
  const failedNow = query.data ? disabledByFailure(query.data.webhookEndpoint) : null;
  useEffect(() => {
    if (failedNow === null) return;
    if (flagged.current !== null && flagged.current !== failedNow) announce();
    flagged.current = failedNow;
  }, [failedNow]);

  if (query.error?.code === 'NOT_FOUND' && !query.data) {
    return html`<${Page} title="Webhook endpoint not found" back=${{ href: '#/webhooks', label: 'Webhooks' }}>
      <p>This endpoint does not exist (it may have been deleted). Choose one from <a href="#/webhooks">Webhooks</a>.</p></${Page}>`;
  }
  return html`<${Loaded} query=${query}>${(data) => {
    const endpoint = data.webhookEndpoint;
    const failed = disabledByFailure(endpoint);
    const clear = () => { setMessage(''); setResult(null); };
    const doTest = async () => {
      clear();
      const answer = await sendTest({ id });
      if (answer) setResult(answer.sendTestWebhook);
    };
    const toggle = async () => {
      clear();
      if (!endpoint.enabled) {
        if (await enable({ id })) {
          setMessage('The endpoint is enabled: its queued deliveries resume now, each with a fresh retry window.');
          query.reload();
        }
        return;
      }
      const ok = await confirm({
        title: `Disable ${endpoint.url}?`,
        body: html`<p>leadsync stops sending to it: events logged while it is disabled are not sent to it,
          and the deliveries already queued wait. Enable resumes them.</p>`,
        confirmLabel: 'Disable',
        danger: true,
      });
      if (ok && (await disable({ id }))) {
        setMessage('The endpoint is disabled.');
        query.reload();
      }
    };
    const doRotate = async () => {
      clear();
      const ok = await confirm({
        title: `Rotate the signing secret of ${endpoint.url}?`,
        body: html`<p>The current secret stops signing at once: from the next delivery on, the receiver must
          check signatures with the new secret, which is shown once.</p>`,
        confirmLabel: 'Rotate secret',
        danger: true,
      });
      if (!ok) return;
      const data = await rotate({ id });
      if (data) setShown({ url: endpoint.url, secret: data.rotateWebhookSecret.secret, rotated: true });
    };
    const doDelete = async () => {
      clear();
      const ok = await confirm({
        title: `Delete the endpoint ${endpoint.url}?`,
        body: html`<p>leadsync stops sending to <strong>${endpoint.url}</strong> at once. Its delivery log and
          its queued deliveries are deleted with it. This cannot be undone.</p>`,
        confirmLabel: 'Delete',
        danger: true,
      });
      if (ok && (await remove({ id }))) navigate('webhooks');
    };
    const toggling = endpoint.enabled ? disabling : enabling;
    const described = (error, errorId) => (error ? errorId : undefined);
    return html`
      <${Page} title=${endpoint.description || endpoint.url} back=${{ href: '#/webhooks', label: 'Webhooks' }}
               actions=${html`
                 <button type="button" class="button primary" disabled=${testing.busy} onClick=${doTest}
                         aria-describedby=${described(testing.error, 'send-test-error')}>Send test</button>
                 <button type="button" class="button secondary" onClick=${() => { clear(); setEditing(true); }}
                         disabled=${editing}>Edit</button>
                 <button type="button" class=${`button ${endpoint.enabled ? 'secondary' : 'primary'}`} disabled=${toggling.busy}
                         onClick=${toggle} aria-describedby=${described(toggling.error, 'toggle-error')}>${endpoint.enabled ? 'Disable' : 'Enable'}</button>
                 <button type="button" class="button secondary" disabled=${rotation.busy} onClick=${doRotate}
                         aria-describedby=${described(rotation.error, 'rotate-error')}>Rotate secret</button>
                 <button type="button" class="button danger" disabled=${removal.busy} onClick=${doDelete}
                         aria-describedby=${described(removal.error, 'delete-error')}>Delete</button>`}>
        ${failed && html`
          <div class="webhook-flag" role="region" aria-labelledby="endpoint-failed-title">
            <h2 id="endpoint-failed-title">Disabled after failing</h2>
            <p><strong>${period(sentence(endpoint.disabledReason))}</strong>
              ${endpoint.failingSince && ` Its deliveries have failed without a success since ${fmtDateTime(endpoint.failingSince)}.`}</p>
            <p>It gets no new events while disabled. Fix the receiver, choose <strong>Send test</strong> to check
              that it answers 2xx, then <strong>Enable</strong>: its queued deliveries resume with a fresh retry window.</p>
          </div>`}
        ${endpoint.enabled && endpoint.failingSince && html`
          <p class="warning-box"><strong>Failing since ${fmtDateTime(endpoint.failingSince)}:</strong> its deliveries
            are retried; if it keeps failing, leadsync disables it. The delivery log below says what it answered.</p>`}
        <${Alert} error=${testing.error} id="send-test-error" />
        <${Alert} error=${toggling.error} id="toggle-error" />
        <${Alert} error=${rotation.error} id="rotate-error" />
        <${Alert} error=${removal.error} id="delete-error" />
        <${Notice}>${testing.busy && 'Sending a test event…'}</${Notice}>
        <${Notice}>${message}</${Notice}>
        ${result && html`<${TestResult} result=${result} />`}
        ${shown && html`<${SecretBox} shown=${shown} onDone=${() => setShown(null)} />`}
        ${editing && html`<${EditEndpoint} endpoint=${endpoint} onCancel=${() => setEditing(false)}
                                            onSaved=${(text) => { setEditing(false); setMessage(text); query.reload(); }} />`}
        <${Facts} endpoint=${endpoint} />
        <div class="section-head">
          <h2 id="deliveries-title">Delivery log</h2>
          <form class="filters" aria-label="Filter the delivery log" onSubmit=${(e) => e.preventDefault()}>
            <${Field} id="delivery-status" label="Status">
              ${(aria) => html`<select ...${aria} value=${status}
                                       onChange=${(e) => navigate(`webhooks/${id}`, { status: e.currentTarget.value })}>
                <option value="">All statuses</option>
                ${STATUSES.map(([value, label, meaning]) => html`<option value=${value}>${label}: ${meaning}</option>`)}
              </select>`}
            </${Field}>
          </form>
        </div>
        <p class="muted">One row per event sent to this endpoint, newest first, read again every few seconds;
          the status code, latency, error and answer are those of its latest attempt. Replay sends one again
          (same <code>webhook-id</code>, so the receiver can tell it is a repeat).</p>
        <${Deliveries} key=${status} endpoint=${endpoint} status=${status} />
        ${dialog}
      </${Page}>`;
  }}</${Loaded}>`;
}
